using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Atlas.Client;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;
using Atlas.Connect;
using Atlas.Desktop.Cli;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Identity;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Tests.Identity;

/// <summary>Trusted mode (issue 10) over real HTTPS: the QR pin is the CA's, native clients pair over the CA chain, the
/// CA is published at /ca.crt and /ca.mobileconfig, serving certificates renew, and removing trust (mode off, CA rotation)
/// is one operation that changes the pin and tells every phone to pair again.</summary>
public sealed class TrustedModeTests
{
    private static readonly Dictionary<string, string?> LocalCa = new() { ["Atlas:Tls:Mode"] = "local-ca" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Before: Atlas.Client compared the pin with the server certificate's own key only, so a desktop whose pin is
    /// its CA could not be paired with.</summary>
    [Fact]
    [Trait("Issue10", "pin")]
    public async Task Pairing_LocalCaMode_QrPinIsTheCaSpki_AndAtlasClientPairsAndConnects()
    {
        await using var host = await AtlasTestHost.StartAsync(LocalCa);
        var identity = host.Get<DesktopIdentity>();

        Assert.Equal(DesktopIdentity.LocalCaMode, identity.Mode);
        Assert.Equal(SpkiPin.Compute(identity.Authority!), host.Pin);
        var link = await host.NewLinkAsync();
        Assert.Equal(host.Pin, link.Fingerprint);
        var credentials = await host.PairAsync("Native phone");
        Assert.Equal(host.Pin, credentials.Fingerprint);
        using var client = new AtlasClient(credentials, AtlasTestHost.ClientOptions());
        await using var connection = await client.ConnectAsync(Ct);

        // A client pinned to anything else is refused.
        using var otherKey = System.Security.Cryptography.ECDsa.Create();
        var otherPin = SpkiPin.Compute(new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=other", otherKey,
            System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1)));
        using var wrong = AtlasClient.CreatePinnedHttpClient(host.BaseUri, otherPin, TestTimeouts.Default);
        await Assert.ThrowsAsync<HttpRequestException>(() => wrong.GetAsync("/health", Ct));
    }

    /// <summary>Every handshake presents a short-lived serving certificate issued by the CA for this desktop's names and
    /// addresses, carrying the CA certificate (TLS stacks leave a self-signed root out of the chain they send), so a
    /// pinning client can check the chain against the pinned CA.</summary>
    [Fact]
    [Trait("Issue10", "ca")]
    public async Task Handshake_LocalCaMode_ServingCertificateIsShortLived_AndCarriesThePinnedCa()
    {
        await using var host = await AtlasTestHost.StartAsync(LocalCa);
        var (leaf, sent) = await HandshakeAsync(host);

        var authority = host.Get<DesktopIdentity>().Authority!;
        var carried = leaf.Extensions[SpkiPin.AuthorityExtensionOid]!;
        Assert.False(carried.Critical);
        Assert.Equal(authority.RawData, carried.RawData);
        Assert.True(SpkiPin.Matches(leaf, null, host.Pin));
        Assert.DoesNotContain(sent, c => c.HasPrivateKey);
        Assert.Equal(authority.SubjectName.RawData, leaf.IssuerName.RawData);
        Assert.True(LocalCertificateAuthorityTests.ChainsTo(leaf, authority, DateTimeOffset.UtcNow));
        Assert.True(leaf.NotAfter - leaf.NotBefore <= TimeSpan.FromDays(7.1));
        var san = Assert.IsType<X509SubjectAlternativeNameExtension>(leaf.Extensions["2.5.29.17"]);
        Assert.Contains(IPAddress.Loopback, san.EnumerateIPAddresses());
        Assert.Contains("localhost", san.EnumerateDnsNames());
    }

    /// <summary>The serving certificate is renewed while the desktop runs: a handshake after two thirds of its lifetime
    /// gets a new one from the same CA (same pin, paired devices keep working).</summary>
    [Fact]
    [Trait("Issue10", "renewal")]
    public async Task Handshake_AfterTwoThirdsOfTheLifetime_GetsARenewedCertificate_SamePin()
    {
        // The desktop's clock starts 2.5 days back, so the renewed certificate is valid by the client's (real) clock too.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-2.5)) { AutoAdvanceAmount = TimeSpan.Zero };
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?>(LocalCa) { ["Atlas:Tls:CertificateLifetime"] = "3.00:00:00" }, time);
        var credentials = await host.PairAsync(clientTime: time);
        var (first, _) = await HandshakeAsync(host);

        time.Advance(TimeSpan.FromDays(2.1));
        var (second, _) = await HandshakeAsync(host);

        Assert.NotEqual(first.Thumbprint, second.Thumbprint);
        Assert.True(second.NotAfter > first.NotAfter);
        using var http = AtlasClient.CreatePinnedHttpClient(host.BaseUri, credentials.Fingerprint, TestTimeouts.Default);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", Ct)).StatusCode);
    }

    /// <summary>GET /ca.crt needs no session and serves the CA certificate as PEM (a download); GET /ca.mobileconfig is an
    /// iOS configuration profile with one root payload holding the same certificate.</summary>
    [Fact]
    [Trait("Issue10", "endpoints")]
    public async Task CaEndpoints_LocalCaMode_ServePemAndProfile_WithoutAuth()
    {
        await using var host = await AtlasTestHost.StartAsync(LocalCa);
        var authority = host.Get<DesktopIdentity>().Authority!;
        using var http = host.PinnedHttp();

        using var crt = await http.GetAsync("/ca.crt", Ct);
        Assert.Equal(HttpStatusCode.OK, crt.StatusCode);
        Assert.Equal(TrustEndpoints.CertificateContentType, crt.Content.Headers.ContentType!.MediaType);
        Assert.EndsWith(".crt", crt.Content.Headers.ContentDisposition!.FileName!.Trim('"'), StringComparison.Ordinal);
        var pem = await crt.Content.ReadAsStringAsync(Ct);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", pem, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE", pem, StringComparison.Ordinal);
        Assert.Equal(authority.RawData, X509Certificate2.CreateFromPem(pem).RawData);

        using var profile = await http.GetAsync("/ca.mobileconfig", Ct);
        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        Assert.Equal(TrustEndpoints.ProfileContentType, profile.Content.Headers.ContentType!.MediaType);
        var plist = XDocument.Parse(await profile.Content.ReadAsStringAsync(Ct));
        var outer = plist.Root!.Element("dict")!;
        Assert.Equal("Configuration", Value(outer, "PayloadType"));
        var payload = outer.Elements("key").Single(k => k.Value == "PayloadContent").ElementsAfterSelf().First().Element("dict")!;
        Assert.Equal("com.apple.security.root", Value(payload, "PayloadType"));
        Assert.Equal(authority.RawData, Convert.FromBase64String(Value(payload, "PayloadContent")));
    }

    /// <summary>Quick mode has no CA: /ca.crt answers not_found with how to turn trusted mode on, and pairing is unchanged
    /// (the pin is the self-signed certificate's own key).</summary>
    [Fact]
    [Trait("Issue10", "quick")]
    public async Task QuickMode_Default_NoCa_PinIsTheServingKey_PairingAsBefore()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var identity = host.Get<DesktopIdentity>();
        Assert.Equal(DesktopIdentity.SelfSignedMode, identity.Mode);
        Assert.Equal(SpkiPin.Compute(identity.Certificate), host.Pin);
        using var http = host.PinnedHttp();

        foreach (var path in new[] { "/ca.crt", "/ca.mobileconfig" })
        {
            using var response = await http.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var error = await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ErrorResponse, Ct);
            Assert.Equal(ErrorCodes.NotFound, error!.Error.Code);
            Assert.Contains("atlas tls mode local-ca", error.Error.Message, StringComparison.Ordinal);
        }

        using var client = await host.PairClientAsync();
        await using var connection = await client.ConnectAsync(Ct);
        Assert.False(File.Exists(Path.Combine(host.DataDir, "identity", LocalCertificateAuthority.KeyFileName)));
    }

    /// <summary>Rotating the CA (one control/admin call, like 'atlas tls rotate') makes a new CA key, changes the pin,
    /// revokes every device (a live socket is closed as revoked, the old credential is refused) and the old pin no longer
    /// connects; a phone pairs again with the new QR code.</summary>
    [Fact]
    [Trait("Issue10", "rotation")]
    public async Task Rotate_OneOperation_NewPin_DevicesRevokedAndTold_PairAgainWorks()
    {
        await using var host = await AtlasTestHost.StartAsync(LocalCa);
        var oldPin = host.Pin;
        var credentials = await host.PairAsync("Rotated phone");
        var token = await SessionTokenAsync(host, credentials);
        var (socket, reply) = await host.ConnectRawAsync(token);
        using var _ = socket;
        Assert.Equal(MessageTypes.AuthSuccess, reply.Type);

        using var control = new ControlClient(new DataDirectory(host.DataDir).ControlSocketPath);
        var view = await control.PostAsync("tls/rotate", null, DesktopJsonContext.Default.TlsView, Ct);

        Assert.Equal(1, view!.RevokedDevices);
        Assert.NotEqual(oldPin, view.Pin);
        Assert.Equal(view.Pin, host.Pin);
        Assert.Null(await AtlasTestHost.ReceiveTypeAsync(socket));
        Assert.Equal((WebSocketCloseStatus)AtlasProtocol.CloseRevoked, socket.CloseStatus);
        using var oldPinned = AtlasClient.CreatePinnedHttpClient(host.BaseUri, oldPin, TestTimeouts.Default);
        await Assert.ThrowsAsync<HttpRequestException>(() => oldPinned.GetAsync("/health", Ct));
        var again = await host.PairAsync("Rotated phone");
        Assert.Equal(view.Pin, again.Fingerprint);
    }

    /// <summary>Turning trusted mode off (POST /tls {"mode":"self-signed"}) deletes the CA key, revokes every device,
    /// stops publishing the CA, and is remembered across a restart; turning it on again makes a new CA.</summary>
    [Fact]
    [Trait("Issue10", "rotation")]
    public async Task ModeOff_OneOperation_DeletesCaKey_RevokesDevices_RememberedAfterRestart()
    {
        var dataDir = AtlasTestHost.NewDataDir();
        try
        {
            string caPin;
            await using (var host = await AtlasTestHost.StartAsync(dataDir: dataDir))
            {
                using var control = new ControlClient(new DataDirectory(dataDir).ControlSocketPath);
                var on = await control.PostAsync("tls", JsonContent.Create(new TlsChange("local-ca"), DesktopJsonContext.Default.TlsChange),
                    DesktopJsonContext.Default.TlsView, Ct);
                Assert.Equal(DesktopIdentity.LocalCaMode, on!.Mode);
                caPin = host.Pin;
                Assert.Equal(on.Pin, caPin);
            }

            await using (var host = await AtlasTestHost.StartAsync(dataDir: dataDir))
            {
                Assert.Equal(caPin, host.Pin); // the choice and the CA survive a restart
                await host.PairAsync("Phone");
                using var control = new ControlClient(new DataDirectory(dataDir).ControlSocketPath);
                var off = await control.PostAsync("tls", JsonContent.Create(new TlsChange("self-signed"), DesktopJsonContext.Default.TlsChange),
                    DesktopJsonContext.Default.TlsView, Ct);

                Assert.Equal((DesktopIdentity.SelfSignedMode, 1), (off!.Mode, off.RevokedDevices));
                Assert.NotEqual(caPin, host.Pin);
                Assert.False(File.Exists(Path.Combine(dataDir, "identity", LocalCertificateAuthority.KeyFileName)));
                using var http = host.PinnedHttp();
                Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/ca.crt", Ct)).StatusCode);
                Assert.Empty(await host.Get<Atlas.Desktop.Devices.DeviceService>().ListAsync(Ct));
            }

            await using (var host = await AtlasTestHost.StartAsync(dataDir: dataDir))
            {
                Assert.Equal(DesktopIdentity.SelfSignedMode, host.Get<DesktopIdentity>().Mode);
                using var control = new ControlClient(new DataDirectory(dataDir).ControlSocketPath);
                var bad = await Assert.ThrowsAsync<CliException>(() => control.PostAsync("tls", JsonContent.Create(new TlsChange("https"),
                    DesktopJsonContext.Default.TlsChange), DesktopJsonContext.Default.TlsView, Ct));
                Assert.Contains("local-ca", bad.Message, StringComparison.Ordinal);
                var on = await control.PostAsync("tls", JsonContent.Create(new TlsChange("local-ca"), DesktopJsonContext.Default.TlsChange),
                    DesktopJsonContext.Default.TlsView, Ct);
                Assert.NotEqual(caPin, on!.Pin);
            }
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>Configuration mistakes fail at start with a message that says how to fix them.</summary>
    [Theory]
    [Trait("Issue10", "config")]
    [InlineData("Atlas:Tls:Mode", "trusted", "use 'self-signed'")]
    [InlineData("Atlas:Tls:CertificateLifetime", "500.00:00:00", "between 01:00:00")]
    public async Task Start_BadTlsSetting_FailsWithHowToFix(string key, string value, string hint)
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => AtlasTestHost.StartAsync(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(hint, e.Message, StringComparison.Ordinal);
    }

    private static string Value(XElement dict, string key) =>
        dict.Elements("key").Single(k => k.Value == key).ElementsAfterSelf().First().Value;

    private static async Task<string> SessionTokenAsync(AtlasTestHost host, Atlas.Client.Credentials.DeviceCredentials credentials)
    {
        using var client = new AtlasClient(credentials, AtlasTestHost.ClientOptions());
        return (await client.GetSessionAsync(Ct)).SessionToken;
    }

    /// <summary>A raw TLS handshake with the host: the server's certificate and what it sent along with it.</summary>
    private static async Task<(X509Certificate2 Leaf, List<X509Certificate2> Sent)> HandshakeAsync(AtlasTestHost host)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, host.Desktop.Port, Ct);
        X509Certificate2? leaf = null;
        var sent = new List<X509Certificate2>();
        await using var tls = new SslStream(tcp.GetStream(), false, (_, certificate, chain, _) =>
        {
            leaf = X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData());
            sent.AddRange(chain!.ChainPolicy.ExtraStore);
            return true;
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1" }, Ct);
        return (leaf!, sent);
    }
}
