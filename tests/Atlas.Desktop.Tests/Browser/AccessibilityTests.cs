using Atlas.Desktop.Admin;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>Accessibility of the phone client and the admin page (issue 9): axe-core on every screen in light and dark
/// mode with no serious or critical violation (colour contrast included), and a keyboard-only walk through pairing,
/// chat, the conversation list, upload and capture with a visible focus ring at every step.</summary>
[Trait("Speed", "slow")]
public sealed class AccessibilityTests : ChromiumTest
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
    }

    private static ColorScheme SchemeOf(string scheme) => scheme == "dark" ? ColorScheme.Dark : ColorScheme.Light;

    private static async Task CheckAsync(IPage page, string screen, string scheme, List<string> found)
    {
        await ScreenshotAsync(page, $"issue9-a11y-{screen}-{scheme}.png");
        found.AddRange((await Axe.SeriousViolationsAsync(page)).Select(v => $"[{screen}, {scheme}] {v}"));
    }

    private static byte[] SamplePng() =>
        File.ReadAllBytes(Path.Combine(Repository.Root, "src", "Atlas.Desktop", "wwwroot", "icon-192.png"));

    /// <summary>Every screen of the phone client: pairing, chat with an answer, the conversation list, files, a file
    /// open with its media actions, offline, revoked.</summary>
    [Theory]
    [Trait("Issue9", "a11y")]
    [InlineData("light")]
    [InlineData("dark")]
    public async Task PhoneScreens_Axe_HaveNoSeriousOrCriticalViolation(string scheme)
    {
        await using var chat = await ChatHost.StartAsync();
        var found = new List<string>();

        var link = await chat.Host.NewLinkAsync();
        var options = Playwright.Devices["Pixel 7"];
        options.IgnoreHTTPSErrors = true;
        options.ColorScheme = SchemeOf(scheme);
        await using (var pairing = await Browser.NewContextAsync(options))
        {
            var pairPage = await pairing.NewPageAsync();
            await pairPage.GotoAsync(Atlas.Client.Pairing.PairingLink.Format(chat.Host.BaseUri, link.Ticket, link.Fingerprint, link.ExpiresAt, link.DesktopName));
            await Expect(pairPage.Locator("#form")).ToBeVisibleAsync();
            await Expect(pairPage.Locator("#certificate-sha256")).Not.ToHaveTextAsync("…");
            await CheckAsync(pairPage, "pair", scheme, found);
            await pairPage.Locator("#name").FillAsync("Axe phone");
            await pairPage.Locator("#pair").ClickAsync();
            await Expect(pairPage.Locator("#done")).ToBeVisibleAsync();
            await CheckAsync(pairPage, "paired", scheme, found);
        }

        var credentials = await chat.Host.PairAsync("Axe phone 2");
        var (context, page) = await OpenPhoneAsync(chat.Host, credentials);
        await using var _ = context;
        await page.EmulateMediaAsync(new() { ColorScheme = SchemeOf(scheme) });
        await CheckAsync(page, "chat-empty", scheme, found);

        chat.Fake.Enqueue(FakeReply.Text("Here is an answer with enough text to check its contrast."));
        await page.Locator("#input").FillAsync("A question");
        await page.Locator("#send").TapAsync();
        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(1);
        await CheckAsync(page, "chat", scheme, found);

        await page.Locator("#menu").TapAsync();
        await Expect(page.Locator("#drawer")).ToBeVisibleAsync();
        await CheckAsync(page, "drawer", scheme, found);
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.Locator("#drawer")).ToBeHiddenAsync();

        await page.Locator("#tab-files").TapAsync();
        await Expect(page.Locator("#crumbs button").First).ToHaveTextAsync("My files");
        await page.Locator("#files-upload").SetInputFilesAsync(new FilePayload { Name = "photo.png", MimeType = "image/png", Buffer = SamplePng() });
        await Expect(page.Locator("#files li .open")).ToHaveCountAsync(1);
        await CheckAsync(page, "files", scheme, found);

        await page.Locator("#files li .open").First.TapAsync();
        await Expect(page.Locator("#viewer")).ToBeVisibleAsync();
        await Expect(page.Locator("#media-form")).ToBeVisibleAsync();
        await CheckAsync(page, "media", scheme, found);
        await page.Locator("#viewer-close").TapAsync();

        await page.Locator("#tab-chat").TapAsync();
        await context.SetOfflineAsync(true);
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "offline");
        await CheckAsync(page, "offline", scheme, found);

        await chat.Host.Get<DeviceService>().RevokeAsync(credentials.DeviceId, deleteFiles: false, Ct);
        await context.SetOfflineAsync(false);
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "revoked");
        await Expect(page.Locator("#pair-again")).ToBeVisibleAsync();
        await CheckAsync(page, "revoked", scheme, found);

        Assert.True(found.Count == 0, string.Join("\n", found));
    }

    /// <summary>The admin page with a paired device, its sections loaded.</summary>
    [Theory]
    [Trait("Issue9", "a11y")]
    [InlineData("light")]
    [InlineData("dark")]
    public async Task AdminPage_Axe_HasNoSeriousOrCriticalViolation(string scheme)
    {
        await using var host = await AtlasTestHost.StartAsync();
        await host.PairAsync("Listed phone");
        await using var context = await Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ColorScheme = SchemeOf(scheme) });
        var page = await context.NewPageAsync();
        await page.GotoAsync(host.Get<AdminSessions>().CreateLink());
        await Expect(page.Locator("#main")).ToBeVisibleAsync();
        await Expect(page.Locator("body")).ToContainTextAsync("Listed phone");
        var found = new List<string>();
        await CheckAsync(page, "admin", scheme, found);
        Assert.True(found.Count == 0, string.Join("\n", found));
    }

    /// <summary>Describes the focused element and whether its focus ring shows (an outline or a box shadow).</summary>
    private const string FocusScript = """
        () => {
          const el = document.activeElement;
          if (!el || el === document.body) return "body|false";
          const style = getComputedStyle(el);
          const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== "none";
          return `${el.id || el.tagName.toLowerCase()}|${el.matches(":focus-visible") && ring}`;
        }
        """;

    /// <summary>Presses Tab (or Shift+Tab) until the element with <paramref name="id"/> has the focus; every element
    /// passed on the way must show its focus.</summary>
    private static async Task TabToAsync(IPage page, string id, bool backwards = false)
    {
        var seen = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            await page.Keyboard.PressAsync(backwards ? "Shift+Tab" : "Tab");
            var focus = (await page.EvaluateAsync<string>(FocusScript)).Split('|');
            seen.Add(focus[0]);
            Assert.True(focus[1] == "true" || focus[0] == "body", $"no visible focus on {focus[0]}; walked: {string.Join(" → ", seen)}");
            if (focus[0] == id)
            {
                return;
            }
        }

        Assert.Fail($"Tab never reached #{id}; walked: {string.Join(" → ", seen)}");
    }

    /// <summary>Pairing, sending a message, the conversation list, an upload and a photo capture with Tab, Shift+Tab,
    /// Enter, Space and Escape only.</summary>
    [Fact]
    [Trait("Issue9", "keyboard")]
    public async Task KeyboardOnly_PairChatUploadCapture_EveryStepReachableWithVisibleFocus()
    {
        await using var chat = await ChatHost.StartAsync();
        var link = await chat.Host.NewLinkAsync();
        var options = Playwright.Devices["Pixel 7"];
        options.IgnoreHTTPSErrors = true;
        await using var context = await Browser.NewContextAsync(options);
        context.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        var page = await context.NewPageAsync();

        // File choosers are intercepted from the start: Playwright turns interception on asynchronously per waiter, and
        // under load a key press could open a chooser before that, so its event never came (seen in CI).
        var choosers = System.Threading.Channels.Channel.CreateUnbounded<IFileChooser>();
        page.FileChooser += (_, opened) => choosers.Writer.TryWrite(opened);
        async Task<IFileChooser> NextChooserAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TestTimeouts.Default);
            return await choosers.Reader.ReadAsync(timeout.Token);
        }

        await page.GotoAsync(Atlas.Client.Pairing.PairingLink.Format(chat.Host.BaseUri, link.Ticket, link.Fingerprint, link.ExpiresAt, link.DesktopName));
        await Expect(page.Locator("#form")).ToBeVisibleAsync();

        await TabToAsync(page, "name");
        await page.Keyboard.TypeAsync("Keyboard phone");
        await TabToAsync(page, "pair");
        await ScreenshotAsync(page, "issue9-keyboard-pair.png");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#done")).ToBeVisibleAsync();
        await TabToAsync(page, "open-chat");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");

        chat.Fake.Enqueue(FakeReply.Text("Typed and answered."));
        await TabToAsync(page, "input");
        await page.Keyboard.TypeAsync("Sent with the keyboard");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator(".msg.assistant.done")).ToContainTextAsync("Typed and answered.");

        await TabToAsync(page, "menu", backwards: true);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#drawer")).ToBeVisibleAsync();
        await Expect(page.Locator("#menu")).ToHaveAttributeAsync("aria-expanded", "true");
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.Locator("#drawer")).ToBeHiddenAsync();
        await Expect(page.Locator("#menu")).ToBeFocusedAsync();

        await TabToAsync(page, "tab-files");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#crumbs button").First).ToHaveTextAsync("My files");
        await TabToAsync(page, "files-upload-button");
        await page.Keyboard.PressAsync("Enter");
        var chooser = await NextChooserAsync();
        await chooser.SetFilesAsync(new FilePayload { Name = "notes.txt", MimeType = "text/plain", Buffer = "typed"u8.ToArray() });
        await Expect(page.Locator("#files li .open", new() { HasText = "notes.txt" })).ToHaveCountAsync(1);

        await TabToAsync(page, "capture-photo-button");
        await ScreenshotAsync(page, "issue9-keyboard-capture.png");
        await page.Keyboard.PressAsync("Space");
        chooser = await NextChooserAsync();
        Assert.Equal("capture-photo", await chooser.Element.GetAttributeAsync("id"));
        await chooser.SetFilesAsync(new FilePayload { Name = "photo.png", MimeType = "image/png", Buffer = SamplePng() });
        // A capture is saved to captures/ and opens in the viewer, ready for processing.
        await Expect(page.Locator("#viewer-name")).ToContainTextAsync("photo-");
        await ScreenshotAsync(page, "issue9-keyboard-files.png");
    }
}
