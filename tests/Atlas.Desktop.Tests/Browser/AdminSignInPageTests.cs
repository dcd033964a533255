using Atlas.Desktop.Admin;
using Atlas.Desktop.Tests.Admin;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The admin page's "Sign in" for a remote MCP server that needs OAuth (issue 14, part 1), in Debian's
/// Chromium against the real OpenIddict issuer and <c>mmcp serve --oauth-issuer</c>: the button opens the issuer's
/// consent page in a new tab, approving there signs the desktop in, and the page shows the sign-in and the tools live.</summary>
[Trait("Speed", "slow")]
public sealed class AdminSignInPageTests : ChromiumTest
{
    /// <summary>Sign in → consent in the opened tab → the row shows "Signed in", scopes, connected with tools; Sign out
    /// returns it to "sign-in required". No serious axe-core violations on either screen.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task SignInButton_ConsentInTheOpenedTab_ServerConnectsWithItsTools_SignOutAsksAgain()
    {
        await using var remote = await OAuthRemote.StartAsync();
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1280, Height = 900 } });
        await using var _ = context;
        context.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        var page = await context.NewPageAsync();
        await page.GotoAsync(remote.Host.Get<AdminSessions>().CreateLink());
        await Expect(page.Locator("#live-state")).ToHaveTextAsync("Live");

        var server = page.Locator($"details.server[data-server-id='{OAuthRemote.ServerId}']");
        await Expect(server.Locator("summary")).ToContainTextAsync("sign-in required");
        await server.Locator("summary").ClickAsync();
        await Expect(server.Locator(".sign-in")).ToContainTextAsync("Not signed in");
        await ScreenshotAsync(page, "issue14-admin-sign-in-required.png", server);
        Assert.Empty(await Axe.SeriousViolationsAsync(page));

        var consent = await context.RunAndWaitForPageAsync(() => server.GetByRole(AriaRole.Button, new() { Name = "Sign in (Remote (OAuth))" }).ClickAsync());
        await consent.WaitForURLAsync(url => url.StartsWith(remote.Issuer.AbsoluteUri, StringComparison.Ordinal));
        Assert.Null(await consent.EvaluateAsync<object?>("() => window.opener"));
        await Expect(page.Locator($"details.server[data-server-id='{OAuthRemote.ServerId}'] .sign-in")).ToContainTextAsync("Waiting for you to finish signing in");
        await consent.ClickAsync("#approve");
        await Expect(consent.Locator("#done")).ToBeVisibleAsync();

        server = page.Locator($"details.server[data-server-id='{OAuthRemote.ServerId}']");
        await Expect(server.Locator("summary")).ToContainTextAsync("connected");
        await Expect(server.Locator(".sign-in")).ToContainTextAsync("Signed in at " + remote.Issuer.AbsoluteUri);
        await Expect(server.Locator(".sign-in")).ToContainTextAsync("tools:call");
        await Expect(server.Locator(".tools tr", new() { HasText = "echo" }).First).ToBeVisibleAsync();
        await Expect(page.Locator("#announce")).ToHaveTextAsync("Signed in to Remote (OAuth).");
        await ScreenshotAsync(page, "issue14-admin-signed-in.png", server);
        Assert.Empty(await Axe.SeriousViolationsAsync(page));
        foreach (var token in remote.StoredTokens())
        {
            Assert.DoesNotContain(token, await page.ContentAsync(), StringComparison.Ordinal);
        }

        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await server.GetByRole(AriaRole.Button, new() { Name = "Sign out (Remote (OAuth))" }).ClickAsync();
        await Expect(page.Locator($"details.server[data-server-id='{OAuthRemote.ServerId}'] summary")).ToContainTextAsync("sign-in required");
        Assert.Empty(remote.StoredTokens());
    }

    private static async Task ScreenshotAsync(IPage page, string name, ILocator card)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await card.ScrollIntoViewIfNeededAsync();
        await card.ScreenshotAsync(new() { Path = Path.Combine(folder, name) });
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name.Replace(".png", "-page.png", StringComparison.Ordinal)), FullPage = true });
    }
}
