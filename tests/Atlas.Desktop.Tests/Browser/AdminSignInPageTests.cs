using Atlas.Desktop.Admin;
using Atlas.Desktop.Tests.Admin;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
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

    /// <summary>Two clients define the same server name with different commands: the servers view says which one
    /// keeps the name and how to reach the other (its suffixed id), as <c>mmcp servers --all</c> does.</summary>
    [Fact]
    [Trait("Issue14", "1-shadowed")]
    public async Task ServersView_SameNameInTwoClients_ShowsShadowedByAndHowToReachIt()
    {
        using var sandbox = new TestSandbox("ash-");
        sandbox.CreateHome();
        Directory.CreateDirectory(Path.Combine(sandbox.ConfigDirectory, "Claude"));
        Directory.CreateDirectory(Path.Combine(sandbox.ConfigDirectory, "Code", "User"));
        await File.WriteAllTextAsync(Path.Combine(sandbox.ConfigDirectory, "Claude", "claude_desktop_config.json"),
            """{"mcpServers":{"weather":{"command":"true","args":["claude"]}}}""", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(sandbox.ConfigDirectory, "Code", "User", "mcp.json"),
            """{"servers":{"weather":{"type":"stdio","command":"true","args":["vscode"]}}}""", TestContext.Current.CancellationToken);
        var environment = new Mmcp.Core.Registry.MmcpEnvironment(sandbox.Get, sandbox.Home);
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Hub:ImportClientConfigs"] = "true" },
            configure: b => b.Services.Configure<Mmcp.Client.MmcpHubOptions>(o => o.Registry.Environment = environment));
        using (var admin = await AdminClient.SignInAsync(host))
        {
            var servers = (await admin.GetAsync("servers")).GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
            Assert.Equal("weather", servers["weather.vscode-user"].GetProperty("shadowedBy").GetString());
            Assert.Contains("weather.claude-desktop", servers["weather"].GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        }

        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1280, Height = 900 } });
        await using var _ = context;
        context.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        var page = await context.NewPageAsync();
        await page.GotoAsync(host.Get<AdminSessions>().CreateLink());
        var loser = page.Locator("details.server[data-server-id='weather.vscode-user']");
        await loser.Locator("summary").ClickAsync();
        await Expect(loser.Locator(".shadowing")).ToHaveTextAsync("Shadowed by weather (the name 'weather' is taken); reach this one as weather.vscode-user.");
        var winner = page.Locator("details.server[data-server-id='weather']");
        await winner.Locator("summary").ClickAsync();
        await Expect(winner.Locator(".shadowing")).ToContainTextAsync("Also reachable as weather.claude-desktop.");
        await ScreenshotAsync(page, "issue14-admin-shadowed.png", page.Locator("#servers"));
        Assert.Empty(await Axe.SeriousViolationsAsync(page));
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
