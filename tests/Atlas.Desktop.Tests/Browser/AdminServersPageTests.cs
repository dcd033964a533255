using System.Text.Json;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Tests.Admin;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using Mmcp.Client.Consent;
using Mmcp.Core.Registry;
using ModelContextProtocol.Protocol;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The admin page's MCP servers view in Debian's Chromium: a real stdio server from the registry, a tool whose
/// definition changed since it was approved shown as held, re-approved and denied with the page's buttons, and the
/// decisions written to the consent file <c>mmcp consent</c> reads.</summary>
[Trait("Speed", "slow")]
public sealed class AdminServersPageTests : ChromiumTest
{
    [Fact]
    public async Task ServersView_ShowsAChangedToolAsHeld_AndReapproveAndDenyButtonsWriteTheConsentFile()
    {
        var old = new Tool { Name = "echo", Description = "Echoes (as it was approved last month)", InputSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement };
        await using var host = await AdminServersTests.StartWithRegistryAsync(dataDir =>
            new ConsentStore(Path.Combine(dataDir, "consent.json")).SetToolAsync(AdminServersTests.Everything, "echo", ConsentDecision.Allow, old, TestContext.Current.CancellationToken));
        var file = Path.Combine(host.DataDir, "consent.json");
        await using var context = await Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true });
        var page = await context.NewPageAsync();

        await page.GotoAsync(host.Get<AdminSessions>().CreateLink());
        var server = page.Locator($"details.server[data-server-id='{AdminServersTests.Everything}']");
        await Expect(server.Locator("summary")).ToContainTextAsync("connected", new() { Timeout = (float)TestTimeouts.Default.TotalMilliseconds });
        await Expect(server.Locator("summary")).ToContainTextAsync("1 changed — needs re-approval");
        await Expect(page.Locator($"details.server[data-server-id='{AdminServersTests.Broken}'] summary")).ToContainTextAsync("failed");
        await Expect(page.Locator("#diagnostics")).ToContainTextAsync("io.example.invalid.json");

        await server.Locator("summary").ClickAsync();
        var echo = server.Locator("tr[data-tool='echo']");
        await Expect(echo).ToContainTextAsync("changed — needs re-approval");
        await Expect(echo).ToContainTextAsync("read-only");
        await echo.GetByRole(AriaRole.Button, new() { Name = "Re-approve" }).ClickAsync();

        // The list reloads with the server still expanded; the tool is allowed with its current definition pinned.
        echo = page.Locator($"details.server[data-server-id='{AdminServersTests.Everything}'] tr[data-tool='echo']");
        await Expect(echo).ToContainTextAsync("allowed");
        var pinned = new ConsentStore(file).List().Tools.Single(t => t.ToolName == "echo");
        Assert.Equal((ConsentDecision.Allow, "user"), (pinned.Decision, pinned.DecidedBy));
        Assert.NotEqual(ConsentStore.ComputeHash(old), pinned.PinnedHash);

        await echo.GetByRole(AriaRole.Button, new() { Name = "Deny" }).ClickAsync();
        await Expect(page.Locator($"details.server[data-server-id='{AdminServersTests.Everything}'] tr[data-tool='echo']")).ToContainTextAsync("denied");
        Assert.Equal(ConsentDecision.Deny, new ConsentStore(file).List().Tools.Single(t => t.ToolName == "echo").Decision);
    }

    /// <summary>A "servers" event that changes nothing in the view leaves the cards as they are (the page redrew the
    /// whole list on every event, so a card being read, screenshotted or focused was replaced under the user); a real
    /// change redraws, and the keyboard focus comes back to the same control of the same card.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task ServersEvent_ThatChangesNothing_KeepsTheCards_AndARedrawKeepsTheFocus()
    {
        // Only the server that connects: the missing one's retries change its last error's time, a real change of the view.
        await using var host = await AdminServersTests.StartWithRegistryAsync(dataDir =>
        {
            File.Delete(RegistryPaths.GetManifestPath(Path.Combine(dataDir, "registry"), AdminServersTests.Broken));
            return Task.CompletedTask;
        });
        await using var context = await Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true });
        var page = await context.NewPageAsync();
        await page.GotoAsync(host.Get<AdminSessions>().CreateLink());
        var server = page.Locator($"details.server[data-server-id='{AdminServersTests.Everything}']");
        await Expect(server.Locator("summary")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"connected [1-9][0-9]* tool\(s\)"), new() { Timeout = (float)TestTimeouts.Default.TotalMilliseconds });
        await Expect(page.Locator("#live-state")).ToHaveTextAsync("Live");

        await server.Locator("summary").ClickAsync();
        await Expect(server.Locator("tr[data-tool='echo']")).ToBeVisibleAsync();
        await server.GetByRole(AriaRole.Button, new() { Name = "Reset" }).FocusAsync();
        await server.EvaluateAsync("card => card.dataset.marker = 'drawn before the event'");
        await page.EvaluateAsync("() => { window.serverEvents = 0; new MutationObserver(() => window.serverEvents++).observe(document.getElementById('servers'), { childList: true }); }");
        host.Get<AdminEvents>().Publish(AdminEvents.Servers);

        // The page fetches the view for the event; once the fetch is answered, nothing may have been redrawn.
        await page.WaitForResponseAsync(r => r.Url.EndsWith("/admin/api/servers", StringComparison.Ordinal));
        await page.EvaluateAsync("() => new Promise(resolve => setTimeout(resolve, 0))");
        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.serverEvents"));
        Assert.Equal("drawn before the event", await server.EvaluateAsync<string?>("card => card.dataset.marker"));

        // A change (the server denied from elsewhere: another admin tab, 'mmcp consent') redraws; the focus stays on Reset.
        await new ConsentStore(Path.Combine(host.DataDir, "consent.json")).SetServerAsync(AdminServersTests.Everything, ConsentDecision.Deny, TestContext.Current.CancellationToken);
        host.Get<AdminEvents>().Publish(AdminEvents.Servers);
        await Expect(server.Locator("summary")).ToContainTextAsync("server denied");
        Assert.Null(await server.EvaluateAsync<string?>("card => card.dataset.marker ?? null"));
        Assert.Equal("Reset", await page.EvaluateAsync<string>("() => document.activeElement?.textContent ?? ''"));
        Assert.True(await server.EvaluateAsync<bool>("card => card.contains(document.activeElement)"));
    }
}
