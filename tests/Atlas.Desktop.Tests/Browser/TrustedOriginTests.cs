using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Atlas.Desktop.Identity;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>Trusted mode (issue 10) in Debian's Chromium with a real trust store: the desktop's CA imported into the NSS
/// database of the browser's HOME with certutil, and no certificate error ignored anywhere.</summary>
[Trait("Speed", "slow")]
public sealed class TrustedOriginTests : ChromiumTest
{
    private static readonly Dictionary<string, string?> LocalCa = new() { ["Atlas:Tls:Mode"] = "local-ca" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
    }

    private async Task<(IBrowser Browser, string Home)> TrustingBrowserAsync(AtlasTestHost host)
    {
        Assert.SkipUnless(File.Exists(TrustedOriginCertificates.CertUtil), "certutil is missing (Debian package libnss3-tools, eng/apt-packages.txt).");
        var home = await TrustedOriginCertificates.BrowserHomeTrustingAsync(host.Get<DesktopIdentity>().Authority!, Ct);
        return (await LaunchWithHomeAsync(home), home);
    }

    /// <summary>Before: with the self-signed certificate the service worker never registered, so the app could not start
    /// without the desktop. With the CA trusted: a secure context, a registered service worker, and with the desktop
    /// stopped and the network off the app opens from the cache and shows the saved conversation.</summary>
    [Fact]
    [Trait("Issue10", "browser")]
    public async Task TrustedCa_InNssDatabase_ServiceWorkerRegisters_AndAppOpensOfflineWithCachedChats()
    {
        await using var chat = await ChatHost.StartAsync(LocalCa);
        var (browser, home) = await TrustingBrowserAsync(chat.Host);
        try
        {
            var credentials = await chat.Host.PairAsync("Trusted phone");
            var (context, page) = await OpenPhoneAsync(chat.Host, credentials, browser, pinned: true);
            await using var _ = context;

            Assert.True(await page.EvaluateAsync<bool>("() => window.isSecureContext"));
            Assert.True(await page.EvaluateAsync<bool>("async () => !!(await navigator.serviceWorker.ready).active"));
            await Expect(page.Locator("#shell-note")).ToContainTextAsync("opens offline");
            chat.Fake.Enqueue(FakeReply.Text("Saved for the train", pieces: 2));
            await page.Locator("#input").FillAsync("Remember this");
            await page.Locator("#send").TapAsync();
            await Expect(page.Locator(".msg.assistant.done .text")).ToHaveTextAsync("Saved for the train");

            // The phone saves the conversation list after the answer: wait until it shows the conversation (so it is
            // in IndexedDB) before the desktop goes away; under load that save came after the stop.
            await page.Locator("#menu").TapAsync();
            await Expect(page.Locator("#conversations li")).ToHaveCountAsync(1);
            await page.Keyboard.PressAsync("Escape");

            // No network at all: the desktop stops and the browser goes offline before the navigation.
            await chat.Host.App.StopAsync(Ct);
            await context.SetOfflineAsync(true);
            var response = await page.GotoAsync(chat.Host.BaseUri.ToString());

            Assert.True(response!.FromServiceWorker);
            await page.Locator("#menu").TapAsync();
            await Expect(page.Locator("#conversations li")).ToHaveCountAsync(1);
            await page.Locator("#conversations li").First.Locator("button").First.TapAsync();
            await Expect(page.Locator(".msg.assistant .text").Last).ToHaveTextAsync("Saved for the train");
            await ScreenshotAsync(page, "issue10-offline-start.png");
            Assert.NotEqual("online", await page.Locator("#status").GetAttributeAsync("data-state"));
        }
        finally
        {
            await browser.CloseAsync();
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>The name constraints hold in the browser: a certificate for a name and address outside them, signed with
    /// the same CA key, is refused by Chromium, while one inside them from the same server code loads.</summary>
    [Fact]
    [Trait("Issue10", "browser")]
    public async Task CertificateOutsideTheConstraints_SignedBySameCa_IsRefusedByChromium()
    {
        await using var host = await AtlasTestHost.StartAsync(LocalCa);
        var (browser, home) = await TrustingBrowserAsync(host);
        try
        {
            var authority = host.Get<DesktopIdentity>().Authority!;
            using var caKey = ECDsa.Create();
            caKey.ImportFromPem(await File.ReadAllTextAsync(Path.Combine(host.DataDir, "identity", LocalCertificateAuthority.KeyFileName), Ct));
            using var inside = TrustedOriginCertificates.IssueLeaf(authority, caKey, "localhost", IPAddress.Loopback);
            var elsewhere = IPAddress.Parse("127.0.0.2");
            using var outside = TrustedOriginCertificates.IssueLeaf(authority, caKey, "bank.example", elsewhere);
            await using var insideServer = OneCertificateServer.Start(IPAddress.Loopback, inside);
            await using var outsideServer = OneCertificateServer.Start(elsewhere, outside);
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = false });
            var page = await context.NewPageAsync();

            await page.GotoAsync($"https://127.0.0.1:{insideServer.Port}/");
            await Expect(page.Locator("#served")).ToHaveTextAsync("served");

            var refused = await Assert.ThrowsAsync<PlaywrightException>(() => page.GotoAsync($"https://127.0.0.2:{outsideServer.Port}/"));
            Assert.Contains("ERR_CERT", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            await browser.CloseAsync();
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>The pairing page in trusted mode guides the install (Android .crt download, iOS profile and the full-trust
    /// step) and says whether this phone trusts the desktop: not yet in a browser without the CA (certificate clicked
    /// through), trusted in one with the CA installed.</summary>
    [Fact]
    [Trait("Issue10", "guide")]
    public async Task PairPage_LocalCaMode_GuidesInstall_AndDetectsWhetherTheOriginIsTrusted()
    {
        await using var host = await AtlasTestHost.StartAsync(LocalCa);
        var (browser, home) = await TrustingBrowserAsync(host);
        try
        {
            var options = Playwright.Devices["Pixel 7"];
            options.IgnoreHTTPSErrors = true; // no CA installed: the user clicked through the warning
            await using (var untrusted = await Browser.NewContextAsync(options))
            {
                var page = await untrusted.NewPageAsync();
                await page.GotoAsync(await PairUrlAsync(host));
                await Expect(page.Locator("#trust-status")).ToHaveAttributeAsync("data-trusted", "false");
                await Expect(page.Locator("#trust-status")).ToContainTextAsync("does not trust the desktop yet");
                Assert.Equal("/ca.crt", await page.Locator("#ca-crt").GetAttributeAsync("href"));
                Assert.Equal("/ca.mobileconfig", await page.Locator("#ca-profile").GetAttributeAsync("href"));
                await Expect(page.Locator("#trust")).ToContainTextAsync("enable full trust");
                await Expect(page.Locator("#form")).ToBeVisibleAsync();
                var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#ca-crt").TapAsync());
                Assert.EndsWith("-ca.crt", download.SuggestedFilename, StringComparison.Ordinal);
                var box = await page.Locator("#trust-check").BoundingBoxAsync();
                Assert.True(box!.Height >= 44, $"Check again is {box.Height} px high");
                await ScreenshotAsync(page, "issue10-pair-untrusted.png");
            }

            options.IgnoreHTTPSErrors = false;
            await using var trusted = await browser.NewContextAsync(options);
            var trustedPage = await trusted.NewPageAsync();
            await trustedPage.GotoAsync(await PairUrlAsync(host));
            await Expect(trustedPage.Locator("#trust-status")).ToHaveAttributeAsync("data-trusted", "true");
            await Expect(trustedPage.Locator("#trust-status")).ToContainTextAsync("This phone trusts the desktop");
            await Expect(trustedPage.Locator("#ca-sha256")).ToHaveTextAsync(host.Desktop.CertificateSha256);
            await ScreenshotAsync(trustedPage, "issue10-pair-trusted.png");
        }
        finally
        {
            await browser.CloseAsync();
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>Quick mode pairs exactly as before: no trust guide, the certificate clicked through, pairing completes.</summary>
    [Fact]
    [Trait("Issue10", "quick")]
    public async Task PairPage_QuickMode_NoTrustGuide_PairsAsBefore()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var options = Playwright.Devices["Pixel 7"];
        options.IgnoreHTTPSErrors = true;
        await using var context = await Browser.NewContextAsync(options);
        var page = await context.NewPageAsync();

        await page.GotoAsync(await PairUrlAsync(host));
        await Expect(page.Locator("#certificate-sha256")).ToHaveTextAsync(host.Desktop.CertificateSha256);
        await page.Locator("#pair").TapAsync();
        await Expect(page.Locator("#done")).ToBeVisibleAsync();
        await Expect(page.Locator("#trust")).ToBeHiddenAsync();
    }

    /// <summary>The admin UI's Phone trust section: quick mode offers turning trusted mode on; afterwards it names the
    /// CA and its constraints and offers rotation and turning it off.</summary>
    [Fact]
    [Trait("Issue10", "admin")]
    public async Task AdminUi_PhoneTrust_TurnsTrustedModeOn_AndShowsTheConstraints()
    {
        await using var host = await AtlasTestHost.StartAsync();
        await using var context = await Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1100, Height = 900 } });
        var page = await context.NewPageAsync();
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        var link = host.Get<Atlas.Desktop.Admin.AdminSessions>().CreateLink();

        await page.GotoAsync(link);
        await Expect(page.Locator("#trust-mode")).ToContainTextAsync("Quick mode");
        await page.Locator("#trust-on").ClickAsync();
        await Expect(page.Locator("#trust-mode")).ToContainTextAsync("Trusted mode");
        await Expect(page.Locator("#trust-detail")).ToContainTextAsync("127.0.0.1");
        await Expect(page.Locator("#trust-off")).ToBeVisibleAsync();
        await Expect(page.Locator("#trust-rotate")).ToBeVisibleAsync();
        Assert.Equal(DesktopIdentity.LocalCaMode, host.Get<DesktopIdentity>().Mode);
        await page.Locator("#trust-card").ScrollIntoViewIfNeededAsync();
        await ScreenshotAsync(page, "issue10-admin-trust.png");
    }

    private static async Task<string> PairUrlAsync(AtlasTestHost host)
    {
        var link = await host.NewLinkAsync();
        return Atlas.Client.Pairing.PairingLink.Format(host.BaseUri, link.Ticket, link.Fingerprint, link.ExpiresAt, link.DesktopName);
    }

    /// <summary>A tiny HTTPS server that presents one certificate and answers every request with a small page.</summary>
    private sealed class OneCertificateServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly X509Certificate2 _certificate;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        private OneCertificateServer(IPAddress address, X509Certificate2 certificate)
        {
            _certificate = certificate;
            _listener = new TcpListener(address, 0);
            _listener.Start();
            _loop = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static OneCertificateServer Start(IPAddress address, X509Certificate2 certificate) => new(address, certificate);

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                _ = ServeAsync(client);
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using var _ = client;
            try
            {
                await using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = SslStreamCertificateContext.Create(_certificate, null, offline: true),
                }, _stop.Token);
                var buffer = new byte[8192];
                var seen = new StringBuilder();
                while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await tls.ReadAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    seen.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }

                var body = "<!doctype html><title>t</title><p id=\"served\">served</p>";
                await tls.WriteAsync(Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}"), _stop.Token);
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException or SocketException)
            {
                // A refused handshake is what the browser does with the outside certificate.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _loop;
            _stop.Dispose();
        }
    }
}
