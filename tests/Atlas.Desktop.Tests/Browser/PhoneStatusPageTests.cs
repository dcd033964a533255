using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>What the phone client tells its user when something goes wrong (issue 9): a tool's own error and inputs on its
/// card, and an app opened without the desktop showing its saved chats instead of "Connecting…".</summary>
[Trait("Speed", "slow")]
public sealed class PhoneStatusPageTests : ChromiumTest
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Before: the card of a tool called without a required argument said only "An error occurred invoking …",
    /// without the inputs the model gave it.</summary>
    [Fact]
    [Trait("Issue9", "6")]
    public async Task ToolCard_ToolCalledWithoutARequiredArgument_ShowsTheToolsMessageAndTheInputs()
    {
        await using var chat = await ToolTests.StartWithEverythingAsync();
        var credentials = await chat.Host.PairAsync("Browser phone");
        var devices = chat.Host.Get<DeviceService>();
        var device = await devices.GetAsync(credentials.DeviceId, Ct);
        await devices.SetPermissionsAsync(device.Id, [.. device.Permissions, Permissions.Tools], null, Ct);
        var (context, page) = await OpenPhoneAsync(chat.Host, credentials);
        await using var _ = context;
        chat.Fake.Enqueue(FakeReply.ToolCalls(("call_empty", ToolTests.Echo, """{"text":"wrong name"}""")));
        chat.Fake.Enqueue(FakeReply.Text("Sorry, I called it wrongly."));

        await page.Locator("#input").FillAsync("Echo something");
        await page.Locator("#send").TapAsync();

        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(1);
        var card = page.Locator(".msg.assistant .tool");
        await Expect(card).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("\\bfailed\\b"));
        await Expect(card.Locator(".tool-error")).ToContainTextAsync("missing a value for the required parameter 'message'");
        await Expect(card.Locator(".tool-inputs")).ToContainTextAsync("text = wrong name");
        await ScreenshotAsync(page, "issue9-tool-error.png");
    }

    /// <summary>Before: an app opened while the desktop was unreachable said "Connecting…" forever.</summary>
    [Fact]
    [Trait("Issue9", "3")]
    public async Task Open_DesktopUnreachable_ShowsOfflineWithTheSavedChats_AndGoesOnlineWhenItIsBack()
    {
        await using var chat = await ChatHost.StartAsync();
        var (context, page) = await OpenPhoneAsync(chat.Host, await chat.Host.PairAsync("Browser phone"));
        await using var _ = context;
        await page.Locator("#input").FillAsync("Remember this chat");
        await page.Locator("#send").TapAsync();
        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(1);
        await Expect(page.Locator("#conversations li")).ToHaveCountAsync(1);

        // The desktop stops answering the app's session and socket; the page itself still loads (as from the app shell).
        await page.RouteAsync("**/auth", route => route.AbortAsync());
        await page.ReloadAsync();

        await Expect(page.Locator("#status")).ToHaveTextAsync("Offline — showing saved chats");
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "offline");
        await Expect(page.Locator("#conversations li")).ToHaveCountAsync(1);
        await Expect(page.Locator("#conversations li .title")).ToHaveTextAsync("Remember this chat");
        await ScreenshotAsync(page, "issue9-offline-start.png");

        await page.UnrouteAllAsync();
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        await Expect(page.Locator("#status")).ToHaveTextAsync("Online");
    }

    /// <summary>Before: a revoked phone kept its composer on, its unsent messages waited "offline" forever and the dead
    /// credential stayed in storage.</summary>
    [Fact]
    [Trait("Issue9", "2")]
    public async Task Revoked_WhileAMessageWaitsOffline_DisablesTheComposer_DropsTheOutbox_ForgetsTheCredential_OffersPairAgain()
    {
        await using var chat = await ChatHost.StartAsync();
        var credentials = await chat.Host.PairAsync("Browser phone");
        var (context, page) = await OpenPhoneAsync(chat.Host, credentials);
        await using var _ = context;

        await context.SetOfflineAsync(true);
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "offline");
        await page.Locator("#input").FillAsync("Sent while offline");
        await page.Locator("#send").TapAsync();
        await Expect(page.Locator(".msg.user")).ToHaveCountAsync(1);

        await chat.Host.Get<DeviceService>().RevokeAsync(credentials.DeviceId, deleteFiles: false, Ct);
        await context.SetOfflineAsync(false);

        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "revoked");
        await Expect(page.Locator("#input")).ToBeDisabledAsync();
        await Expect(page.Locator("#send")).ToBeDisabledAsync();
        await Expect(page.Locator("#attach")).ToBeDisabledAsync();
        await Expect(page.Locator("#files-upload-button")).ToBeDisabledAsync();
        await Expect(page.Locator("#capture-photo-button")).ToBeDisabledAsync();
        await Expect(page.Locator("#revoked-note")).ToContainTextAsync("1 unsent message was dropped");
        Assert.Null(await page.EvaluateAsync<string?>("localStorage.getItem('atlas.device')"));
        Assert.Equal(0, await page.EvaluateAsync<int>(
            "new Promise((ok) => { const r = indexedDB.open('atlas-chat'); r.onsuccess = () => { const q = r.result.transaction('outbox').objectStore('outbox').count(); q.onsuccess = () => ok(q.result); }; })"));
        var pairAgain = page.Locator("#pair-again");
        await Expect(pairAgain).ToBeVisibleAsync();
        await Expect(pairAgain).ToContainTextAsync("scan a new QR code");
        var link = pairAgain.Locator("#pair-link");
        await link.FocusAsync();
        await Expect(link).ToBeFocusedAsync();
        await ScreenshotAsync(page, "issue9-revoked.png");
        Assert.Empty(chat.Fake.Requests);
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
    }
}
