using Atlas.Client;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Tests.Admin;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The admin page on the first run (issue 9, desktop side) in Debian's Chromium: a phone waiting for approval
/// appears at once without a reload (banner, check code, announcement, focus, tab title) and is approved from the
/// banner; a fresh desktop shows empty states that say what to do, the LLM card and a lazily started server as
/// "starts on first use".</summary>
[Trait("Speed", "slow")]
public sealed class AdminFirstRunTests : ChromiumTest
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
    }

    private async Task<(IBrowserContext Context, IPage Page)> OpenAdminAsync(AtlasTestHost host)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        var page = await context.NewPageAsync();
        await page.GotoAsync(host.Get<AdminSessions>().CreateLink());
        await Expect(page.Locator("#live-state")).ToHaveTextAsync("Live");
        return (context, page);
    }

    /// <summary>A phone that scans the code shows up on the open page without a reload: a banner at the top with its
    /// name and check code, announced (aria-live) and focused, the count in the tab title; Approve in the banner
    /// finishes the phone's pairing and the device moves to Devices, live.</summary>
    [Fact]
    [Trait("Issue9", "first-run")]
    public async Task AdminPage_PhoneWaitingForApproval_AppearsLiveWithBanner_AndApprovesFromIt()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Atlas:Pairing:Approval"] = "prompt",
            ["Atlas:Notifications:Desktop"] = "false",
        });
        var (context, page) = await OpenAdminAsync(host);
        await using var _ = context;
        await Expect(page.Locator("#approval-banner")).ToBeHiddenAsync();
        await page.EvaluateAsync("() => { window.__loads = (window.__loads ?? 0) + 1; }");

        var waiting = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pairing = AtlasClient.PairAsync(await host.NewLinkAsync(), "Anna's Pixel", "android", code => waiting.TrySetResult(code),
            AtlasTestHost.ClientOptions(), Ct);
        var code = await waiting.Task.WaitAsync(TestTimeouts.Default, Ct);
        var spaced = $"{code[..3]} {code[3..]}";

        var banner = page.Locator("#approval-banner");
        await Expect(banner).ToBeVisibleAsync();
        await Expect(banner).ToContainTextAsync("Anna's Pixel (android)");
        await Expect(banner).ToContainTextAsync(spaced);
        await Expect(banner).ToContainTextAsync("atlas devices approve");
        await Expect(page).ToHaveTitleAsync("(1) Approval needed — Atlas admin");
        await Expect(page.Locator("#announce")).ToHaveTextAsync($"Anna's Pixel wants to pair. Check code {spaced}.");
        await Expect(page.Locator("#approval-title")).ToBeFocusedAsync();
        Assert.Equal(1, await page.EvaluateAsync<int>("() => window.__loads")); // no reload happened
        await ScreenshotAsync(page, "admin-pending-approval.png");

        await banner.GetByRole(AriaRole.Button, new() { Name = "Approve Anna's Pixel" }).ClickAsync();
        await pairing.WaitAsync(TestTimeouts.Default, Ct);
        await Expect(banner).ToBeHiddenAsync();
        await Expect(page).ToHaveTitleAsync("Atlas admin");
        await Expect(page.Locator("#devices")).ToContainTextAsync("Anna's Pixel (android)");

        // A device paired elsewhere (auto approval off, approved from the CLI) also shows without a reload.
        var other = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = AtlasClient.PairAsync(await host.NewLinkAsync(), "Tablet", "android", c => other.TrySetResult(c), AtlasTestHost.ClientOptions(), Ct);
        await other.Task.WaitAsync(TestTimeouts.Default, Ct);
        await Expect(page).ToHaveTitleAsync("(1) Approval needed — Atlas admin");
        var id = (await host.Get<Atlas.Desktop.Devices.DeviceService>().ListAsync(Ct)).Single(d => d.Name == "Tablet").Id;
        await host.Get<Atlas.Desktop.Devices.DeviceService>().ApproveAsync(id, Ct);
        await second.WaitAsync(TestTimeouts.Default, Ct);
        await Expect(page.Locator("#devices")).ToContainTextAsync("Tablet (android)");
        await Expect(banner).ToBeHiddenAsync();
        Assert.Equal(1, await page.EvaluateAsync<int>("() => window.__loads"));
    }

    /// <summary>A fresh desktop: every section says what to do next (scan the code, where servers come from, what
    /// media jobs are), the LLM card says it is not configured and how to fix it, and the QR code shows with its
    /// expiry; an on-demand server reads "starts on first use".</summary>
    [Fact]
    [Trait("Issue9", "admin")]
    public async Task AdminPage_FreshDesktop_ShowsEmptyStatesThatSayWhatToDo_AndLlmStatus()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Atlas:Pairing:Approval"] = "prompt",
            ["Atlas:Llm:ApiKey"] = null,
        });
        var (context, page) = await OpenAdminAsync(host);
        await using var _ = context;

        await Expect(page.Locator("#pending .empty")).ToContainTextAsync("When a phone scans the QR code");
        await Expect(page.Locator("#devices .empty")).ToContainTextAsync("Scan the QR code above");
        await Expect(page.Locator("#servers .empty")).ToContainTextAsync("No MCP servers found");
        await Expect(page.Locator("#jobs .empty")).ToContainTextAsync("No media jobs yet");
        await Expect(page.Locator("#events .empty")).ToContainTextAsync("Nothing has happened yet");
        await Expect(page.Locator("#pairing-state")).ToContainTextAsync("Make a new one to pair a phone");
        await Expect(page.Locator("#llm")).ToContainTextAsync("Model");
        if (Environment.GetEnvironmentVariable("OPENROUTER_API_KEY") is null)
        {
            await Expect(page.Locator("#llm")).ToContainTextAsync("not configured");
            await Expect(page.Locator("#llm")).ToContainTextAsync("OPENROUTER_API_KEY");
        }

        await page.Locator("#new-ticket").ClickAsync();
        await Expect(page.Locator("#pairing-state")).ToContainTextAsync("Valid until");
        await Expect(page.Locator("#qr")).ToBeVisibleAsync();
        await ScreenshotAsync(page, "admin-empty-states.png");
    }

    /// <summary>An app announced with an on-demand launch and not running reads "starts on first use", not
    /// "disconnected".</summary>
    [Fact]
    [Trait("Issue9", "admin")]
    public async Task AdminPage_OnDemandServer_ReadsStartsOnFirstUse()
    {
        var dataDir = AtlasTestHost.NewDataDir();
        await AdminLiveTests.WriteOnDemandServerAsync(dataDir);
        await using var host = await AtlasTestHost.StartAsync(dataDir: dataDir);
        host.DeleteDataDirOnDispose = true;
        var (context, page) = await OpenAdminAsync(host);
        await using var _ = context;

        var summary = page.Locator($"details.server[data-server-id='{AdminLiveTests.OnDemand}'] summary");
        await Expect(summary).ToContainTextAsync("starts on first use");
        await Expect(summary).Not.ToContainTextAsync("disconnected");
        await ScreenshotAsync(page, "admin-server-on-demand.png");
    }
}
