using System.Text.RegularExpressions;
using Atlas.Client.Credentials;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>Finding one's way on the phone (issue 9) in Debian's Chromium as a Pixel 7, against a real atlas and the fake
/// provider: every conversation has an address that reload, Back/Forward and reopening keep; a live answer resumes in
/// place after a reload and after the desktop was unreachable; the conversation list has previews, relative dates,
/// search and empty states.</summary>
[Trait("Speed", "slow")]
public sealed partial class PhoneNavigationTests : ChromiumTest
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex("#/c/(cnv_[0-9a-zA-Z_-]+)$")]
    private static partial Regex ConversationAddress();

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
    }

    /// <summary>Sends a message and waits until <paramref name="answers"/> answers on screen are done.</summary>
    private static async Task SendAsync(IPage page, string text, int answers)
    {
        await page.Locator("#input").FillAsync(text);
        await page.Locator("#send").TapAsync();
        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(answers);
    }

    /// <summary>The conversation id in the page's address, once it names one.</summary>
    private static async Task<string> AddressAsync(IPage page)
    {
        await Expect(page).ToHaveURLAsync(ConversationAddress());
        return ConversationAddress().Match(page.Url).Groups[1].Value;
    }

    private static async Task ExpectConversationAsync(IPage page, string id, string userText)
    {
        await Expect(page).ToHaveURLAsync(new Regex($"#/c/{id}$"));
        await Expect(page.Locator(".msg.user .text")).ToHaveTextAsync([userText]);
        await Expect(page.Locator(".msg.assistant.done .text")).ToHaveTextAsync(["Echo: " + userText]);
    }

    /// <summary>Before: main() always loaded no conversation, so a reload or reopening landed in an empty new chat.</summary>
    [Fact]
    [Trait("Issue9", "1")]
    public async Task Address_ReloadBackForwardListAndReopen_ShowTheConversationItNames()
    {
        await using var chat = await ChatHost.StartAsync();
        var (context, page) = await OpenPhoneAsync(chat.Host, await chat.Host.PairAsync("Route phone"));
        await using var _ = context;

        await SendAsync(page, "first topic", 1);
        var first = await AddressAsync(page);
        await page.Locator("#menu").TapAsync();
        await page.Locator("#new").TapAsync();
        await Expect(page).ToHaveURLAsync(new Regex("#/new$"));
        await Expect(page.Locator("#messages .msg")).ToHaveCountAsync(0);
        await SendAsync(page, "second topic", 1);
        var second = await AddressAsync(page);
        Assert.NotEqual(first, second);

        await page.ReloadAsync();
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        await ExpectConversationAsync(page, second, "second topic");
        await ScreenshotAsync(page, "issue9-route-reloaded.png");

        await page.GoBackAsync();
        await ExpectConversationAsync(page, first, "first topic");
        await page.GoForwardAsync();
        await ExpectConversationAsync(page, second, "second topic");

        await page.Locator("#menu").TapAsync();
        await page.Locator("#conversations .open", new() { HasTextString = "first topic" }).TapAsync();
        await ExpectConversationAsync(page, first, "first topic");
        await Expect(page).ToHaveTitleAsync("first topic — Atlas");

        // Opened again without an address (from the home screen): the conversation used last.
        var reopened = await context.NewPageAsync();
        await reopened.GotoAsync(chat.Host.BaseUri.ToString());
        await ExpectConversationAsync(reopened, first, "first topic");

        // An address naming a conversation the desktop does not have: said, and a new chat instead.
        // (A page of its own: a Goto that only changes the hash is handled in the page, racing a reload.)
        var gone = await context.NewPageAsync();
        await gone.GotoAsync(new Uri(chat.Host.BaseUri, "/#/c/cnv_gone").ToString());
        await Expect(gone.Locator("#status")).ToContainTextAsync("not found");
        await Expect(gone).ToHaveURLAsync(new Regex("#/new$"));
        await Expect(gone.Locator("#messages .msg")).ToHaveCountAsync(0);
    }

    /// <summary>Before: a reload during an answer showed an empty new chat; the answer was not followed any more.</summary>
    [Fact]
    [Trait("Issue9", "1")]
    public async Task Reload_DuringALiveAnswer_ResumesItInPlace_ShownOnce()
    {
        await using var chat = await ChatHost.StartAsync();
        var (context, page) = await OpenPhoneAsync(chat.Host, await chat.Host.PairAsync("Reload phone"));
        await using var _ = context;
        var (reached, gate) = (new TaskCompletionSource(), new TaskCompletionSource());
        chat.Fake.Enqueue(ChatHost.Gated(reached, gate));

        await page.Locator("#input").FillAsync("tell me a story");
        await page.Locator("#send").TapAsync();
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        await Expect(page.Locator(".msg.assistant .text")).ToHaveTextAsync(["w0 w1 w2 w3 w4"]);
        var id = await AddressAsync(page);

        await page.ReloadAsync();
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        await Expect(page).ToHaveURLAsync(new Regex($"#/c/{id}$"));
        await Expect(page.Locator(".msg.assistant.streaming .text")).ToHaveTextAsync(["w0 w1 w2 w3 w4"]);
        await ScreenshotAsync(page, "issue9-route-live-after-reload.png");

        gate.SetResult();
        await Expect(page.Locator(".msg.assistant.done .text")).ToHaveTextAsync([ChatHost.GatedText()]);
        await Expect(page.Locator(".msg.assistant")).ToHaveCountAsync(1);
        await Expect(page.Locator(".msg.user .text")).ToHaveTextAsync(["tell me a story"]);
        Assert.Equal(1, chat.Fake.CompletionCount);
    }

    /// <summary>Before: while the desktop could not be reached mid-answer, "Answering…" and an active Stop stayed for
    /// the whole outage.</summary>
    [Fact]
    [Trait("Issue9", "4")]
    public async Task DesktopUnreachable_MidAnswer_SaysTheAnswerContinuesThere_StopOff_ThenResumesInPlace()
    {
        var link = new DesktopLink();
        await using var chat = await ChatHost.StartAsync(configure: link.Install);
        var credentials = await chat.Host.PairAsync("Outage phone");
        var (context, page) = await OpenPhoneAsync(chat.Host, credentials);
        await using var _ = context;
        var (reached, gate, finished) = (new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource());
        var reply = FakeReply.Stream().Comment().Role();
        for (var i = 0; i < 10; i++)
        {
            if (i == 5)
            {
                reply.Signal(reached).Gate(gate);
            }

            reply.Delta($"w{i} ");
        }

        chat.Fake.Enqueue(reply.Signal(finished).Finish("stop").Usage(10, 10, 0.0002m).Done());

        await page.Locator("#input").FillAsync("a long answer please");
        await page.Locator("#send").TapAsync();
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        var answer = page.Locator(".msg.assistant").Last;
        await Expect(answer.Locator(".text")).ToHaveTextAsync("w0 w1 w2 w3 w4");
        await Expect(page.Locator("#stop")).ToBeEnabledAsync();

        link.Cut();
        await Expect(page.Locator("#status")).ToHaveTextAsync("Desktop unreachable — trying again…");
        await Expect(answer.Locator(".meta")).ToHaveTextAsync("The desktop cannot be reached. The answer continues there and appears here when it is back.");
        await Expect(answer).Not.ToContainTextAsync("Answering…");
        await Expect(page.Locator("#stop")).ToBeDisabledAsync();
        await Expect(page.Locator("#stop")).ToHaveAttributeAsync("title", "Stop works once the desktop is reachable again");
        await ScreenshotAsync(page, "issue9-desktop-unreachable.png");

        // The answer goes on on the desktop while the phone cannot reach it.
        gate.SetResult();
        await finished.Task.WaitAsync(TestTimeouts.Default, Ct);
        link.Restore();

        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        await Expect(answer).ToHaveClassAsync(new Regex("\\bdone\\b"));
        await Expect(page.Locator(".msg.assistant .text")).ToHaveTextAsync([ChatHost.GatedText()]);
        await Expect(page.Locator(".msg.user .text")).ToHaveTextAsync(["a long answer please"]);
        await Expect(page.Locator("#stop")).ToBeHiddenAsync();
        Assert.Equal(1, chat.Fake.CompletionCount);
        await ScreenshotAsync(page, "issue9-desktop-back.png");
    }

    /// <summary>A phone whose browser clock reads <paramref name="now"/> (UTC, US English dates).</summary>
    private async Task<(IBrowserContext Context, IPage Page)> OpenAtAsync(AtlasTestHost host, DeviceCredentials credentials, DateTimeOffset now)
    {
        var options = Playwright.Devices["Pixel 7"];
        options.TimezoneId = "UTC";
        options.Locale = "en-US";
        options.IgnoreHTTPSErrors = true;
        var context = await Browser.NewContextAsync(options);
        context.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        await context.Clock.SetFixedTimeAsync(now.UtcDateTime);
        var stored = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["deviceId"] = credentials.DeviceId,
            ["deviceCredential"] = credentials.Credential,
            ["fingerprint"] = credentials.Fingerprint,
            ["desktopName"] = "Test desktop",
        });
        await context.AddInitScriptAsync($"localStorage.setItem('atlas.device', {System.Text.Json.JsonSerializer.Serialize(stored)});");
        var page = await context.NewPageAsync();
        await page.GotoAsync(host.BaseUri.ToString());
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        return (context, page);
    }

    /// <summary>Before: the list showed titles only, with no date, no preview and nothing when it was empty.</summary>
    [Fact]
    [Trait("Issue9", "list")]
    public async Task ConversationList_ShowsPreviewsAndRelativeDates_AndSaysHowToStartWhenEmpty()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var credentials = await host.PairAsync("List phone");
        var now = new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);
        var (context, page) = await OpenAtAsync(host, credentials, now);
        await using var _ = context;

        await page.Locator("#menu").TapAsync();
        await Expect(page.Locator("#conversations-empty")).ToContainTextAsync("No conversations yet. Write a message below");
        await Expect(page.GetByRole(AriaRole.List, new() { Name = "Conversations" })).ToBeAttachedAsync();
        await ScreenshotAsync(page, "issue9-list-empty.png");

        var device = credentials.DeviceId;
        await ConversationSeed.AddAsync(host, device, "Old plans", "What did we plan?", "A trip in October.", now.AddDays(-40));
        await ConversationSeed.AddAsync(host, device, "Piano", "Practice schedule?", "Scales, then the étude.", now.AddDays(-3));
        await ConversationSeed.AddAsync(host, device, "Garden", "When to plant tulips?", "In autumn, before the frost.", now.AddDays(-1));
        await ConversationSeed.AddAsync(host, device, "Tax return", "Which forms do I need?", "Form A and,\nif you rent out, form B.", now.AddMinutes(-5));
        await ConversationSeed.AddAsync(host, device, "Lisbon trip", "Three days in Lisbon?", "Sure: Alfama, Belém and Sintra.", now.AddSeconds(-30));
        await page.ReloadAsync();
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        await page.Locator("#menu").TapAsync();

        var rows = page.Locator("#conversations li");
        await Expect(rows.Locator(".title")).ToHaveTextAsync(["Lisbon trip", "Tax return", "Garden", "Piano", "Old plans"]);
        await Expect(rows.Locator(".when")).ToHaveTextAsync(["just now", "5 min ago", "Yesterday", "Tuesday", "Oct 11"]);
        await Expect(rows.Locator(".preview")).ToHaveTextAsync(["Sure: Alfama, Belém and Sintra.", "Form A and, if you rent out, form B.",
            "In autumn, before the frost.", "Scales, then the étude.", "A trip in October."]);
        await Expect(page.Locator("#conversations-empty")).ToBeHiddenAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Rename “Garden”" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Garden Yesterday In autumn, before the frost." })).ToBeVisibleAsync();
        await ScreenshotAsync(page, "issue9-list.png");
    }

    /// <summary>Before: there was no way to find a conversation but scrolling through titles.</summary>
    [Fact]
    [Trait("Issue9", "list")]
    public async Task Search_FindsTitlesAndMessageText_PagesAndSaysWhenNothingMatches()
    {
        await using var chat = await ChatHost.StartAsync();
        var credentials = await chat.Host.PairAsync("Search phone");
        var device = credentials.DeviceId;
        var start = DateTimeOffset.UtcNow.AddDays(-2);
        for (var i = 0; i < 23; i++)
        {
            await ConversationSeed.AddAsync(chat.Host, device, $"Note {i:00}", $"Question {i}", $"A common answer number {i}.", start.AddMinutes(i));
        }

        await ConversationSeed.AddAsync(chat.Host, device, "Zebra facts", "Stripes?", "Every zebra has its own pattern.", start.AddHours(1));
        var animals = await ConversationSeed.AddAsync(chat.Host, device, "Animals", "Which animal smiles?",
            "The quokka, a small marsupial from Rottnest Island, seems to smile.", start.AddHours(2));
        var (context, page) = await OpenPhoneAsync(chat.Host, credentials);
        await using var _ = context;

        await page.Locator("#menu").TapAsync();
        var search = page.GetByRole(AriaRole.Searchbox, new() { Name = "Search" });
        await search.FillAsync("QUOKKA");
        var results = page.Locator("#conversations li");
        await Expect(results.Locator(".title")).ToHaveTextAsync(["Animals"]);
        await Expect(results.Locator(".preview")).ToContainTextAsync(["quokka, a small marsupial"]);
        await ScreenshotAsync(page, "issue9-search.png");

        await search.FillAsync("zebra");
        await Expect(results.Locator(".title")).ToHaveTextAsync(["Zebra facts"]);

        await search.FillAsync("common answer");
        await Expect(results).ToHaveCountAsync(20);
        await page.Locator("#search-more").TapAsync();
        await Expect(results).ToHaveCountAsync(23);
        await Expect(page.Locator("#search-more")).ToBeHiddenAsync();

        await search.FillAsync("no such thing anywhere");
        await Expect(page.Locator("#conversations-empty")).ToHaveTextAsync(
            "No conversations match “no such thing anywhere”. Try other words, or clear the search.");
        await Expect(results).ToHaveCountAsync(0);
        await ScreenshotAsync(page, "issue9-search-none.png");

        await page.GetByRole(AriaRole.Button, new() { Name = "Clear search" }).TapAsync();
        await Expect(results).ToHaveCountAsync(25);
        await search.FillAsync("quokka");
        await results.Locator(".open").First.TapAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"#/c/{animals}$"));
        await Expect(page.Locator(".msg.user .text")).ToHaveTextAsync(["Which animal smiles?"]);
    }
}
