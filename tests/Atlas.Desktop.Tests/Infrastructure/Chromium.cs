using System.Text.Json;
using Atlas.Client.Credentials;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

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
        // Playwright's own defaults (5 s for an expectation) are the "small fixed timeouts" that failed at load average
        // 15: expectations wait on page state for as long as the shared test policy allows.
        SetDefaultExpectTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await LaunchAsync();
    }

    /// <summary>Another browser with extra command-line flags (those that must be known at launch, such as a pinned
    /// certificate's SPKI hash); the caller closes it.</summary>
    protected Task<IBrowser> LaunchAsync(params string[] extraArgs) => Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = ExecutablePath,
        Headless = true,
        Timeout = (float)TestTimeouts.Default.TotalMilliseconds,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", .. extraArgs],
    });

    /// <summary>A browser with its own <c>HOME</c>, so it reads the NSS trust store in <c>HOME/.pki/nssdb</c> (see
    /// <see cref="TrustedOriginCertificates.BrowserHomeTrustingAsync"/>). No certificate-ignoring flag is ever passed:
    /// open its contexts with <c>IgnoreHTTPSErrors = false</c> and the real certificate check decides.</summary>
    protected Task<IBrowser> LaunchWithHomeAsync(string home) => Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = ExecutablePath,
        Headless = true,
        Timeout = (float)TestTimeouts.Default.TotalMilliseconds,
        Env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Where(e => (string)e.Key != "HOME").Select(e => KeyValuePair.Create((string)e.Key, (string)e.Value!))
            .Append(KeyValuePair.Create("HOME", home)),
        Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });

    /// <summary>A phone (Pixel 7) that paired earlier: its credential is in localStorage, as the pairing page left it;
    /// the app is open and online. By default the self-signed certificate is trusted on first use
    /// (<c>IgnoreHTTPSErrors</c>); pass <paramref name="browser"/> launched with other flags, and <paramref name="pinned"/>
    /// when those flags pin the certificate's SPKI instead.</summary>
    internal async Task<(IBrowserContext Context, IPage Page)> OpenPhoneAsync(AtlasTestHost host, DeviceCredentials credentials,
        IBrowser? browser = null, bool pinned = false)
    {
        var stored = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["deviceId"] = credentials.DeviceId,
            ["deviceCredential"] = credentials.Credential,
            ["fingerprint"] = credentials.Fingerprint,
            ["desktopName"] = "Test desktop",
        });
        var options = Playwright.Devices["Pixel 7"];
        options.IgnoreHTTPSErrors = !pinned;
        var context = await (browser ?? Browser).NewContextAsync(options);
        context.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        await context.AddInitScriptAsync($"localStorage.setItem('atlas.device', {JsonSerializer.Serialize(stored)});");
        var page = await context.NewPageAsync();
        await page.GotoAsync(host.BaseUri.ToString());
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        return (context, page);
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
