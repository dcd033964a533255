using Atlas.Desktop.Admin;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The desktop user's own chat in Debian's Chromium: opened from the admin UI over loopback, it chats as
/// "This desktop" with the fake provider, and its conversations stay apart from a paired phone's (and the phone's
/// from it).</summary>
[Trait("Speed", "slow")]
public sealed class DesktopChatPageTests : ChromiumTest
{
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
    }

    /// <summary>"Chat on this desktop" in the admin UI opens the chat as This desktop; an answer arrives; the phone's
    /// conversation list does not contain the desktop's conversation, nor the desktop's the phone's.</summary>
    [Fact]
    [Trait("Issue9", "desktop-chat")]
    public async Task ChatOnThisDesktop_FromTheAdminUi_Answers_AndItsConversationIsNotInThePhonesList()
    {
        await using var chat = await ChatHost.StartAsync();
        var (phoneContext, phone) = await OpenPhoneAsync(chat.Host, await chat.Host.PairAsync("Browser phone"));
        await using var _ = phoneContext;
        await phone.Locator("#input").FillAsync("A question from the phone");
        await phone.Locator("#send").TapAsync();
        await Expect(phone.Locator(".msg.assistant.done .text")).ToHaveTextAsync("Echo: A question from the phone");

        await using var desktopContext = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            IgnoreHTTPSErrors = true,
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        desktopContext.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        var admin = await desktopContext.NewPageAsync();
        await admin.GotoAsync(chat.Host.Get<AdminSessions>().CreateLink());
        var link = admin.GetByRole(AriaRole.Link, new() { Name = "Chat on this desktop" });
        await Expect(link).ToBeVisibleAsync();
        await ScreenshotAsync(admin, "issue9-desktop-chat-admin-link.png");
        var desktop = await desktopContext.RunAndWaitForPageAsync(() => link.ClickAsync());

        await Expect(desktop.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        await Expect(desktop.Locator("#desktop")).ToHaveTextAsync(DesktopChat.Name);
        await Expect(desktop.Locator("#unpaired")).ToBeHiddenAsync();
        await desktop.Locator("#input").FillAsync("A question from the desktop");
        await desktop.Locator("#send").ClickAsync();
        await Expect(desktop.Locator(".msg.assistant.done .text")).ToHaveTextAsync("Echo: A question from the desktop");
        Assert.Equal(["A question from the phone", "A question from the desktop"], chat.Fake.Requests.Select(r => r.LastUserText));
        await ScreenshotAsync(desktop, "issue9-desktop-chat-answer.png");
        await Expect(desktop.Locator("#shell-note")).ToBeEmptyAsync(); // no offline-app note on the desktop itself
        await desktop.Locator("#menu").ClickAsync();
        await Expect(desktop.Locator("#conversations li")).ToHaveCountAsync(1);
        await Expect(desktop.Locator("#conversations")).Not.ToContainTextAsync("from the phone");
        await ScreenshotAsync(desktop, "issue9-desktop-chat-list.png");

        // The phone, reloaded: its own conversation only.
        await phone.ReloadAsync();
        await Expect(phone.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        await phone.Locator("#menu").TapAsync();
        await Expect(phone.Locator("#conversations li")).ToHaveCountAsync(1);
        await Expect(phone.Locator("#conversations")).ToContainTextAsync("from the phone");
        await Expect(phone.Locator("#conversations")).Not.ToContainTextAsync("from the desktop");
        await ScreenshotAsync(phone, "issue9-desktop-chat-phone-list.png");
    }
}
