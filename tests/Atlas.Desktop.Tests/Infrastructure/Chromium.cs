using Microsoft.Playwright;

namespace Atlas.Desktop.Tests.Infrastructure;

/// <summary>Playwright driving Debian's Chromium (no browser download), one per test class; skips when it is missing.</summary>
public abstract class ChromiumTest : IAsyncLifetime
{
    private const string ExecutablePath = "/usr/bin/chromium";

    protected IPlaywright Playwright { get; private set; } = null!;

    protected IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Assert.SkipUnless(File.Exists(ExecutablePath), "Debian's chromium is not installed (eng/install-deps.sh installs it).");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Timeout = 60_000,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        Playwright?.Dispose();
        GC.SuppressFinalize(this);
    }
}
