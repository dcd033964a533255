using System.Globalization;
using System.Text;
using System.Text.Json;
using Atlas.Client.Credentials;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The phone client as an installable web app (issue 9): the manifest as Chromium reads it, the service
/// worker keeping every file the page loads (at its hashed URL) and opening the app offline, and the figures for
/// docs/atlas-web-client.md (cold load, time to "Online", bytes of JS and CSS sent, repeat visits from the cache).</summary>
[Trait("Speed", "slow")]
public sealed class PhoneAppShellTests : ChromiumTest
{
    /// <summary>The budget for the phone page's JavaScript and CSS as sent (compressed).</summary>
    private const int ScriptAndStyleBudgetBytes = 100 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
    }

    /// <summary>A browser that trusts exactly the desktop's certificate (its SPKI hash), as a phone that installed the
    /// desktop's certificate would: only then do browsers keep files in their cache and run service workers.</summary>
    private Task<IBrowser> TrustingBrowserAsync(AtlasTestHost host)
    {
        var spki = Convert.ToBase64String(Convert.FromBase64String(host.Pin.Replace('-', '+').Replace('_', '/') + "="));
        return LaunchAsync($"--ignore-certificate-errors-spki-list={spki}");
    }

    /// <summary>The static files a page loaded from the desktop (same origin, not the API).</summary>
    private const string LoadedFilesScript = """
        () => performance.getEntriesByType("resource").map((e) => new URL(e.name))
          .filter((u) => u.origin === location.origin && /\.(js|css|svg|png|ico|webmanifest)$/.test(u.pathname))
          .map((u) => u.pathname + u.search)
        """;

    [Fact]
    [Trait("Issue9", "pwa")]
    public async Task Manifest_AsChromiumReadsIt_HasNameStandaloneThemeAndIcons_AndThePageHasThemeColoursAndTouchIcon()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var credentials = await host.PairAsync("Install phone");
        await using var browser = await TrustingBrowserAsync(host);
        var (context, page) = await OpenPhoneAsync(host, credentials, browser, pinned: true);
        await using var _ = context;

        var cdp = await context.NewCDPSessionAsync(page);
        var result = (await cdp.SendAsync("Page.getAppManifest"))!.Value;
        Assert.Empty(result.GetProperty("errors").EnumerateArray());
        Assert.Contains("/manifest.webmanifest?v=", result.GetProperty("url").GetString(), StringComparison.Ordinal);
        var manifest = JsonDocument.Parse(result.GetProperty("data").GetString()!).RootElement;
        Assert.Equal("Atlas", manifest.GetProperty("name").GetString());
        Assert.Equal("Atlas", manifest.GetProperty("short_name").GetString());
        Assert.Equal("/", manifest.GetProperty("start_url").GetString());
        Assert.Equal("/", manifest.GetProperty("scope").GetString());
        Assert.Equal("standalone", manifest.GetProperty("display").GetString());
        Assert.Equal("#2b6cb0", manifest.GetProperty("theme_color").GetString());
        Assert.False(string.IsNullOrEmpty(manifest.GetProperty("background_color").GetString()));
        var icons = manifest.GetProperty("icons").EnumerateArray()
            .Select(i => (Src: i.GetProperty("src").GetString()!, Sizes: i.GetProperty("sizes").GetString()!, Purpose: i.GetProperty("purpose").GetString()!)).ToList();
        Assert.Contains(icons, i => i is { Sizes: "192x192", Purpose: "any" });
        Assert.Contains(icons, i => i is { Sizes: "512x512", Purpose: "any" });
        Assert.Contains(icons, i => i is { Sizes: "512x512", Purpose: "maskable" });
        foreach (var icon in icons)
        {
            var size = await page.EvaluateAsync<string>("""
                async (src) => {
                  const response = await fetch(src);
                  if (!response.ok) return `HTTP ${response.status}`;
                  if (response.headers.get("content-type").startsWith("image/svg")) return "any";
                  const bitmap = await createImageBitmap(await response.blob());
                  return `${bitmap.width}x${bitmap.height}`;
                }
                """, icon.Src);
            Assert.Equal(icon.Sizes, size);
        }

        var installability = (await cdp.SendAsync("Page.getInstallabilityErrors"))!.Value.GetProperty("installabilityErrors")
            .EnumerateArray().Select(e => e.GetProperty("errorId").GetString()!).ToList();
        // Playwright's contexts are incognito-like; nothing else may stand in the way of installing.
        Assert.True(installability.All(e => e == "in-incognito"), string.Join(", ", installability));

        var themes = await page.Locator("meta[name=theme-color]").EvaluateAllAsync<string[]>("(ms) => ms.map((m) => `${m.media}=${m.content}`)");
        Assert.Contains("(prefers-color-scheme: light)=#2b6cb0", themes);
        Assert.Contains(themes, t => t.StartsWith("(prefers-color-scheme: dark)=#", StringComparison.Ordinal));
        var touchIcon = await page.Locator("link[rel=apple-touch-icon]").GetAttributeAsync("href");
        Assert.StartsWith("/apple-touch-icon.png?v=", touchIcon, StringComparison.Ordinal);
    }

    /// <summary>With a trusted certificate the worker keeps every file the page loaded, at the URL the page used, and
    /// the app then opens offline with all of its modules.</summary>
    [Fact]
    [Trait("Issue9", "pwa")]
    public async Task ServiceWorker_TrustedCertificate_KeepsEveryFileThePageLoaded_AndOpensOffline()
    {
        var host = await AtlasTestHost.StartAsync();
        var stopped = false;
        try
        {
            var credentials = await host.PairAsync("Shell phone");
            await using var browser = await TrustingBrowserAsync(host);
            var (context, page) = await OpenPhoneAsync(host, credentials, browser, pinned: true);
            await using var _ = context;
            await page.EvaluateAsync("() => navigator.serviceWorker.ready");
            var loaded = await page.EvaluateAsync<string[]>(LoadedFilesScript);
            Assert.Contains(loaded, u => u.StartsWith("/app-ui.js?v=", StringComparison.Ordinal));
            var missing = await page.EvaluateAsync<string[]>("""
                async (urls) => {
                  const missing = [];
                  for (const url of urls) if (!(await caches.match(url))) missing.push(url);
                  if (!(await caches.match("/"))) missing.push("/");
                  return missing;
                }
                """, loaded);
            Assert.Empty(missing);

            await host.DisposeAsync();
            stopped = true;
            await context.SetOfflineAsync(true);
            var failed = new List<string>();
            page.RequestFailed += (_, request) =>
            {
                lock (failed)
                {
                    failed.Add(request.Url);
                }
            };
            await page.ReloadAsync();
            await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", new System.Text.RegularExpressions.Regex("^(offline|connecting)$"));
            await Expect(page.Locator("#composer")).ToBeVisibleAsync();
            await ScreenshotAsync(page, "issue9-offline-shell.png");
            var reloaded = await page.EvaluateAsync<string[]>(LoadedFilesScript);
            lock (failed)
            {
                Assert.DoesNotContain(failed, u => reloaded.Any(r => u.EndsWith(r, StringComparison.Ordinal)));
            }
        }
        finally
        {
            if (!stopped)
            {
                await host.DisposeAsync();
            }
        }
    }

    private sealed class NetworkLog
    {
        public Dictionary<string, (string Url, int Status, bool Cached)> Responses { get; } = [];
    }

    /// <summary>Opens the app as a paired phone, with a CDP network log attached before the navigation.</summary>
    private static async Task<(IPage Page, NetworkLog Log)> OpenLoggedAsync(IBrowserContext context, AtlasTestHost host)
    {
        var page = await context.NewPageAsync();
        var log = new NetworkLog();
        var cdp = await context.NewCDPSessionAsync(page);
        cdp.Event("Network.responseReceived").OnEvent += (_, e) =>
        {
            var response = e!.Value.GetProperty("response");
            var cached = response.TryGetProperty("fromDiskCache", out var disk) && disk.GetBoolean()
                || response.TryGetProperty("fromServiceWorker", out var worker) && worker.GetBoolean();
            lock (log)
            {
                log.Responses[e.Value.GetProperty("requestId").GetString()!] = (response.GetProperty("url").GetString()!, response.GetProperty("status").GetInt32(), cached);
            }
        };
        await cdp.SendAsync("Network.enable");
        await page.GotoAsync(host.BaseUri.ToString());
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        await page.WaitForFunctionAsync("() => window.__atlasOnlineAt !== undefined");
        return (page, log);
    }

    private static async Task<BrowserNewContextOptions> PhoneOptionsAsync(IPlaywright playwright, bool trusted)
    {
        var options = playwright.Devices["Pixel 7"];
        options.IgnoreHTTPSErrors = !trusted;
        options.ServiceWorkers = ServiceWorkerPolicy.Block; // the HTTP cache alone; the worker answers everything anyway
        return await Task.FromResult(options);
    }

    private static async Task PrepareAsync(IBrowserContext context, DeviceCredentials credentials)
    {
        var stored = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["deviceId"] = credentials.DeviceId,
            ["deviceCredential"] = credentials.Credential,
            ["fingerprint"] = credentials.Fingerprint,
            ["desktopName"] = "Test desktop",
        });
        context.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        await context.AddInitScriptAsync($"localStorage.setItem('atlas.device', {JsonSerializer.Serialize(stored)});");
        // When the status first says "online", relative to the start of the navigation.
        await context.AddInitScriptAsync("""
            new MutationObserver((_, observer) => {
              const status = document.getElementById("status");
              if (status?.dataset.state === "online") { window.__atlasOnlineAt = performance.now(); observer.disconnect(); }
            }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
            """);
    }

    /// <summary>Prints the figures of docs/atlas-web-client.md; asserts only the byte budget and that a repeat visit
    /// downloads no static file again (no timing assertions).</summary>
    [Theory]
    [Trait("Issue9", "figures")]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Figures_ColdLoadAndRepeatVisit_JsAndCssWithinBudget_RepeatVisitFromCache(bool trusted)
    {
        await using var host = await AtlasTestHost.StartAsync();
        var credentials = await host.PairAsync("Figures phone");
        await using var browser = trusted ? await TrustingBrowserAsync(host) : null;
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"certificate: {(trusted ? "trusted" : "self-signed, accepted on first use")}");
        var loads = new List<double>();
        var online = new List<double>();
        long sent = 0, decoded = 0;
        const int Runs = 5;
        for (var run = 0; run < Runs; run++)
        {
            await using var context = await (browser ?? Browser).NewContextAsync(await PhoneOptionsAsync(Playwright, trusted));
            await PrepareAsync(context, credentials);
            var (page, _) = await OpenLoggedAsync(context, host);
            await page.WaitForFunctionAsync("() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0");
            var figures = await page.EvaluateAsync<JsonElement>("""
                () => {
                  const nav = performance.getEntriesByType("navigation")[0];
                  const files = performance.getEntriesByType("resource").filter((e) => /\.(js|css)(\?|$)/.test(new URL(e.name).pathname + new URL(e.name).search));
                  return {
                    load: nav.loadEventEnd, online: window.__atlasOnlineAt,
                    sent: files.reduce((n, e) => n + e.encodedBodySize, 0), decoded: files.reduce((n, e) => n + e.decodedBodySize, 0),
                    html: nav.encodedBodySize, count: files.length,
                  };
                }
                """);
            loads.Add(figures.GetProperty("load").GetDouble());
            online.Add(figures.GetProperty("online").GetDouble());
            sent = figures.GetProperty("sent").GetInt64();
            decoded = figures.GetProperty("decoded").GetInt64();
            if (run == 0)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"JS+CSS files: {figures.GetProperty("count").GetInt32()}, page HTML sent: {figures.GetProperty("html").GetInt64()} B");
            }
        }

        loads.Sort();
        online.Sort();
        report.AppendLine(CultureInfo.InvariantCulture, $"cold load (loadEventEnd), median of {Runs}: {loads[Runs / 2]:F0} ms (min {loads[0]:F0}, max {loads[^1]:F0})");
        report.AppendLine(CultureInfo.InvariantCulture, $"time to Online, median of {Runs}: {online[Runs / 2]:F0} ms (min {online[0]:F0}, max {online[^1]:F0})");
        report.AppendLine(CultureInfo.InvariantCulture, $"JS+CSS sent (compressed bodies): {sent} B = {sent / 1024.0:F1} KB; uncompressed {decoded} B = {decoded / 1024.0:F1} KB");

        // The repeat visit: the same phone opens the app again (a new tab in the same browser profile).
        await using (var context = await (browser ?? Browser).NewContextAsync(await PhoneOptionsAsync(Playwright, trusted)))
        {
            await PrepareAsync(context, credentials);
            var (first, _) = await OpenLoggedAsync(context, host);
            var files = await first.EvaluateAsync<string[]>(LoadedFilesScript);
            await first.CloseAsync();
            var (again, log) = await OpenLoggedAsync(context, host);
            var visited = await again.EvaluateAsync<string[]>(LoadedFilesScript);
            List<(string Url, int Status, bool Cached)> network;
            lock (log)
            {
                network = [.. log.Responses.Values.Where(r => new Uri(r.Url).Host == host.BaseUri.Host)];
            }

            var staticFiles = visited.Length + 1; // and the page itself
            var downloaded = network.Where(r => r.Status == 200 && !r.Cached && IsStatic(r.Url)).Select(r => new Uri(r.Url).PathAndQuery).ToList();
            var revalidated = network.Count(r => r.Status == 304);
            report.AppendLine(CultureInfo.InvariantCulture,
                $"repeat visit: {staticFiles} static requests (page + {visited.Length} files); {staticFiles - downloaded.Count - revalidated} from the browser cache without a request, {revalidated} revalidated (304), {downloaded.Count} downloaded again{(downloaded.Count > 0 ? ": " + string.Join(", ", downloaded) : string.Empty)}");
            var text = report.ToString();
            TestContext.Current.TestOutputHelper?.WriteLine(text);
            var folder = Path.Combine(AppContext.BaseDirectory, "figures");
            Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(Path.Combine(folder, $"issue9-figures-{(trusted ? "trusted" : "self-signed")}.txt"), text, Ct);
            Assert.True(sent <= ScriptAndStyleBudgetBytes, text);
            if (trusted)
            {
                // The page itself (no-cache) goes to the desktop every time; no hashed file does.
                Assert.DoesNotContain(downloaded, u => u != "/");
                Assert.Equal(files.Order(StringComparer.Ordinal), visited.Order(StringComparer.Ordinal));
            }
        }
    }

    private static bool IsStatic(string url)
    {
        var path = new Uri(url).AbsolutePath;
        return path == "/" || System.Text.RegularExpressions.Regex.IsMatch(path, @"\.(js|css|svg|png|ico|webmanifest)$");
    }
}
