using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The phone client as a product (issue 9) in Debian's Chromium: keyboard and screen-reader access to the
/// upload and capture controls, contrast and touch-target sizes, a clean console, upload status after Replace, and
/// the pairing page's two fingerprints.</summary>
[Trait("Speed", "slow")]
public sealed class PhoneProductTests : ChromiumTest
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
    }

    /// <summary>The focused element as "role:name" (role from the tag or the role attribute; name from aria-label,
    /// aria-labelledby, the element's labels or its text).</summary>
    private const string FocusedScript = """
        () => {
          const el = document.activeElement;
          if (!el || el === document.body) return "body";
          const role = el.getAttribute("role") ?? (el.tagName === "SELECT" ? "combobox" : el.tagName === "TEXTAREA" ? "textbox" : el.tagName.toLowerCase());
          const labelled = el.getAttribute("aria-labelledby");
          const name = el.getAttribute("aria-label")
            ?? (labelled ? document.getElementById(labelled)?.textContent : null)
            ?? (el.labels?.length ? el.labels[0].textContent : null)
            ?? [...el.childNodes].filter((n) => !(n.nodeType === 1 && n.getAttribute("aria-hidden") === "true")).map((n) => n.textContent).join("");
          return `${role}:${(name ?? "").trim()}`;
        }
        """;

    private static async Task<List<string>> TabWalkAsync(IPage page, int steps)
    {
        var seen = new List<string>();
        for (var i = 0; i < steps; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            seen.Add(await page.EvaluateAsync<string>(FocusedScript));
        }

        return seen;
    }

    /// <summary>Before: the controls were labels around hidden file inputs; Tab went from Send to body.</summary>
    [Fact]
    [Trait("Issue9", "5")]
    public async Task Controls_KeyboardOnly_TabReachesAttachUploadAndEveryCapture_EnterOpensThePicker()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var credentials = await host.PairAsync("Keyboard phone");
        var (context, page) = await OpenPhoneAsync(host, credentials);
        await using var _ = context;

        // File choosers are intercepted from the start: Playwright turns interception on asynchronously when a waiter is
        // created, and under load a key press right after RunAndWaitForFileChooserAsync could open the chooser before
        // that, so the event never came (seen in CI). A handler registered now has interception on long before any key.
        var choosers = System.Threading.Channels.Channel.CreateUnbounded<IFileChooser>();
        page.FileChooser += (_, opened) => choosers.Writer.TryWrite(opened);
        async Task<IFileChooser> NextChooserAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TestTimeouts.Default);
            return await choosers.Reader.ReadAsync(timeout.Token);
        }

        await page.Locator("#input").FocusAsync();
        await page.Keyboard.PressAsync("Shift+Tab");
        Assert.Equal("button:Attach a photo", await page.EvaluateAsync<string>(FocusedScript));
        await Expect(page.Locator("#attach")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        var chooser = await NextChooserAsync();
        Assert.Equal("attach-input", await chooser.Element.GetAttributeAsync("id"));

        await page.Locator("#tab-files").TapAsync();
        await Expect(page.Locator("#crumbs button").First).ToHaveTextAsync("My files");
        await page.Locator("#tab-files").FocusAsync();
        var seen = await TabWalkAsync(page, 12);
        var expected = new[] { "button:Upload files", "button:Take a photo", "button:Record a video", "button:Record audio" };
        var positions = expected.Select(e => seen.IndexOf(e)).ToArray();
        Assert.True(positions.All(p => p >= 0), "Tab visited: " + string.Join(" → ", seen));
        Assert.Equal(positions.Order(), positions);

        await page.GetByRole(AriaRole.Button, new() { Name = "Take a photo" }).FocusAsync();
        await ScreenshotAsync(page, "issue9-focus-photo.png");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Take a photo" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Space");
        chooser = await NextChooserAsync();
        Assert.Equal("capture-photo", await chooser.Element.GetAttributeAsync("id"));
        var ring = await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle");
        Assert.NotEqual("none", ring);
    }

    /// <summary>Before: warning text was 3.64:1 against white and the model picker 84×23 px.</summary>
    [Fact]
    [Trait("Issue9", "5")]
    public async Task Styles_WarningErrorOkAndLinkText_HaveContrastOfAtLeast4_5_AndTargetsAre44Px()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var credentials = await host.PairAsync("Contrast phone");
        var (context, page) = await OpenPhoneAsync(host, credentials);
        await using var _ = context;

        var ratios = await page.EvaluateAsync<JsonElement>("""
            () => {
              const rgb = (text) => text.match(/[\d.]+/g).slice(0, 4).map(Number);
              const lum = ([r, g, b]) => {
                const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
              };
              const background = (el) => {
                for (let e = el; e; e = e.parentElement) {
                  const c = rgb(getComputedStyle(e).backgroundColor);
                  if (c.length < 4 || c[3] > 0) return c;
                }
                return [255, 255, 255];
              };
              const probes = {
                note: Object.assign(document.createElement("p"), { className: "note" }),
                error: Object.assign(document.createElement("p"), { className: "error" }),
                ok: Object.assign(document.createElement("p"), { className: "ok" }),
                secondary: Object.assign(document.createElement("button"), { className: "secondary" }),
              };
              const result = {};
              for (const [name, el] of Object.entries(probes)) {
                el.textContent = "sample";
                document.body.append(el);
                const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
                result[name] = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
                el.remove();
              }
              const status = document.getElementById("status");
              for (const state of ["connecting", "offline"]) {
                const saved = status.dataset.state;
                status.dataset.state = state;
                const fg = lum(rgb(getComputedStyle(status).color)), bg = lum(background(status));
                result["status-" + state] = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
                status.dataset.state = saved;
              }
              return result;
            }
            """);
        foreach (var ratio in ratios.EnumerateObject().Where(p => !p.Name.StartsWith('$')))
        {
            Assert.True(ratio.Value.ValueKind == JsonValueKind.Number && ratio.Value.GetDouble() >= 4.5, $"{ratio.Name}: {ratio.Value}:1");
        }

        foreach (var selector in new[] { "#model", "#send", "#menu", "#attach" })
        {
            await AssertTargetAsync(page, selector);
        }

        await page.Locator("#tab-files").TapAsync();
        await Expect(page.Locator("#crumbs button").First).ToHaveTextAsync("My files");
        foreach (var selector in new[] { "#files-toolbar button:visible" })
        {
            var count = await page.Locator(selector).CountAsync();
            Assert.True(count >= 5);
            for (var i = 0; i < count; i++)
            {
                await AssertTargetAsync(page, selector, i);
            }
        }

        await ScreenshotAsync(page, "issue9-files-toolbar.png");
    }

    private static async Task AssertTargetAsync(IPage page, string selector, int index = 0)
    {
        var box = await page.Locator(selector).Nth(index).BoundingBoxAsync();
        Assert.NotNull(box);
        Assert.True(box.Width >= 44 && box.Height >= 44, $"{selector}[{index}] is {box.Width}×{box.Height} px");
    }

    /// <summary>Before: /favicon.ico answered 401, a console error on every page.</summary>
    [Fact]
    [Trait("Issue9", "7")]
    public async Task Pages_OnLoad_AppPairAndAdmin_LogNoConsoleError()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var credentials = await host.PairAsync("Console phone");
        var errors = new List<string>();
        var (context, page) = await OpenPhoneAsync(host, credentials);
        await using var _ = context;
        void Collect(object? sender, IConsoleMessage message)
        {
            // Left out, known and not about icons: the service worker refused for the self-signed certificate (trust on
            // first use; FilesPageTests covers the trusted case) and /models answering 503 when no LLM is configured.
            if (message.Type == "error" && !IsExpected(message))
            {
                lock (errors)
                {
                    errors.Add(message.Text + " " + message.Location);
                }
            }
        }

        static bool IsExpected(IConsoleMessage message) =>
            message.Text.Contains("SSL certificate error occurred when fetching the script", StringComparison.Ordinal)
            || (message.Text.Contains("status of 503", StringComparison.Ordinal) && message.Location.EndsWith("/models:0:0", StringComparison.Ordinal));

        var link = await host.NewLinkAsync();
        foreach (var url in new[]
        {
            host.BaseUri.ToString(),
            Atlas.Client.Pairing.PairingLink.Format(host.BaseUri, link.Ticket, link.Fingerprint, link.ExpiresAt, link.DesktopName),
            host.Get<AdminSessions>().CreateLink(),
        })
        {
            var fresh = await context.NewPageAsync();
            fresh.Console += Collect;
            var icon = fresh.WaitForResponseAsync(r => r.Url.Contains("icon", StringComparison.Ordinal));
            await fresh.GotoAsync(url, new() { WaitUntil = WaitUntilState.Load });
            var response = await icon; // the browser asks for the page's icon; it must be served
            Assert.Equal(200, response.Status);
            await fresh.CloseAsync();
        }

        lock (errors)
        {
            Assert.True(errors.Count == 0, string.Join("\n", errors));
        }
    }

    /// <summary>Before: the refused attempt's red row stayed after the successful Replace.</summary>
    [Fact]
    [Trait("Issue9", "7")]
    public async Task Upload_RefusedAsExistingThenReplaced_StatusShowsTheSuccess()
    {
        await using var host = await AtlasTestHost.StartAsync();
        host.DeleteDataDirOnDispose = true;
        var credentials = await host.PairAsync("Replace phone");
        var (context, page) = await OpenPhoneAsync(host, credentials);
        await using var _ = context;
        await page.Locator("#tab-files").TapAsync();
        await Expect(page.Locator("#crumbs button").First).ToHaveTextAsync("My files");
        await page.Locator("#files-upload").SetInputFilesAsync(new FilePayload { Name = "a.txt", MimeType = "text/plain", Buffer = "one"u8.ToArray() });
        await Expect(page.Locator("#files li .open")).ToHaveTextAsync("📄 a.txt");

        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        await page.Locator("#files-upload").SetInputFilesAsync(new FilePayload { Name = "a.txt", MimeType = "text/plain", Buffer = "two"u8.ToArray() });
        await Expect(page.Locator("#files-status")).ToHaveTextAsync("Uploaded a.txt.");
        await Expect(page.Locator("#files-status")).ToHaveAttributeAsync("data-kind", "ok");
        await Expect(page.Locator("#uploads li")).ToHaveCountAsync(0);
        Assert.Equal("two", await File.ReadAllTextAsync(Path.Combine(host.Get<Atlas.Desktop.Files.DeviceFileSystem>().RootOf(credentials.DeviceId), "a.txt"), Ct));
        await ScreenshotAsync(page, "issue9-replace-ok.png");
    }

    /// <summary>Before: only the SPKI hash was shown, which no browser displays.</summary>
    [Fact]
    [Trait("Issue9", "8")]
    public async Task PairPage_ShowsSpkiPinAndCertificateSha256_EachMatchingTheServedCertificate()
    {
        await using var host = await AtlasTestHost.StartAsync();
        X509Certificate2? served = null;
        using (var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                served = X509CertificateLoader.LoadCertificate(certificate!.RawData);
                return true;
            },
        })
        using (var http = new HttpClient(handler) { Timeout = TestTimeouts.Default })
        {
            using var health = await http.GetAsync(new Uri(host.BaseUri, "health"), Ct);
            health.EnsureSuccessStatusCode();
        }

        Assert.NotNull(served);
        var sha256 = string.Join(":", SHA256.HashData(served.RawData).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
        var spki = Atlas.Client.Pairing.SpkiPin.ToDisplay(Atlas.Client.Pairing.SpkiPin.Compute(served));

        var link = await host.NewLinkAsync();
        var options = Playwright.Devices["Pixel 7"];
        options.IgnoreHTTPSErrors = true;
        await using var context = await Browser.NewContextAsync(options);
        var page = await context.NewPageAsync();
        await page.GotoAsync(Atlas.Client.Pairing.PairingLink.Format(host.BaseUri, link.Ticket, link.Fingerprint, link.ExpiresAt, link.DesktopName));
        await Expect(page.Locator("#fingerprint")).ToHaveTextAsync(spki);
        await Expect(page.Locator("#certificate-sha256")).ToHaveTextAsync(sha256);
        await Expect(page.Locator("#fingerprint-where")).ToContainTextAsync("QR");
        await Expect(page.Locator("#certificate-where")).ToContainTextAsync("certificate viewer");
        await ScreenshotAsync(page, "issue9-pair-fingerprints.png");
        served.Dispose();
    }
}
