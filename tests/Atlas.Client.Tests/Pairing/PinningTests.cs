using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Atlas.Client.Credentials;
using Atlas.Client.Pairing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atlas.Client.Tests.Pairing;

/// <summary>Pinning against a real Kestrel with real TLS: the pinned key is accepted whatever its chain; any other
/// key is refused during the handshake, before a request (and its secrets) is sent.</summary>
public sealed class PinningTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PinnedClient_AcceptsPinnedKey_RefusesAnotherBeforeSendingAnything()
    {
        using var served = NewCertificate();
        using var other = NewCertificate();
        var requests = 0;
        await using var app = await StartAsync(served, () => Interlocked.Increment(ref requests));
        var baseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");

        using (var good = AtlasClient.CreatePinnedHttpClient(baseUri, SpkiPin.Compute(served), TimeSpan.FromSeconds(30)))
        {
            Assert.Equal("ok", await good.GetStringAsync("hello", Ct));
        }

        Assert.Equal(1, requests);
        using var bad = AtlasClient.CreatePinnedHttpClient(baseUri, SpkiPin.Compute(other), TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<HttpRequestException>(() => bad.GetStringAsync("hello?secret=x", Ct));
        Assert.Equal(1, requests);

        using var client = new AtlasClient(new DeviceCredentials(baseUri, SpkiPin.Compute(other), "dev_1", "dev_1.x", "d"));
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetSessionAsync(Ct));
        Assert.Equal(1, requests);
    }

    [Fact]
    public void SpkiPin_SurvivesReissueWithSameKey_ChangesWithNewKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var first = new CertificateRequest("CN=a", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        using var second = new CertificateRequest("CN=b", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(2));
        using var other = NewCertificate();
        Assert.Equal(SpkiPin.Compute(first), SpkiPin.Compute(second));
        Assert.NotEqual(SpkiPin.Compute(first), SpkiPin.Compute(other));
        Assert.Equal(43, SpkiPin.Compute(first).Length);
        Assert.True(SpkiPin.Matches(second, SpkiPin.Compute(first)));
        Assert.False(SpkiPin.Matches(other, SpkiPin.Compute(first)));
        Assert.False(SpkiPin.Matches(null, SpkiPin.Compute(first)));
        Assert.Matches("^([0-9A-F]{4}-){7}[0-9A-F]{4}$", SpkiPin.ToDisplay(SpkiPin.Compute(first)));
    }

    private static X509Certificate2 NewCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static async Task<WebApplication> StartAsync(X509Certificate2 certificate, Action onRequest)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            onRequest();
            await next(context);
        });
        app.MapGet("/hello", () => "ok");
        await app.StartAsync(Ct);
        return app;
    }
}
