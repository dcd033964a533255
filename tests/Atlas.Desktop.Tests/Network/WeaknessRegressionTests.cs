using System.Net;
using System.Net.Http.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Tests.Network;

/// <summary>One regression test per weakness of the original designs (ARCHITECTURE.md §6) not covered elsewhere:
/// client-chosen ids and prefix origins (FileApiTests, NetworkSecurityTests), tokens in query strings, plain ws://,
/// the VPN address in the QR and all-interface binding (NetworkSecurityTests).</summary>
public sealed class WeaknessRegressionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ClientChosenDeviceId_IsIgnored_ServerAssignsIds()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var link = await host.NewLinkAsync();
        using var http = host.PinnedHttp();
        using var response = await http.PostAsync("auth", new StringContent(
            $$"""{"grantType":"pairing_ticket","ticket":"{{link.Ticket}}","deviceName":"x","platform":"web","deviceId":"dev_victim","clientId":"dev_victim"}""",
            System.Text.Encoding.UTF8, "application/json"), Ct);
        var paired = await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.PairingResponse, Ct);
        Assert.StartsWith("dev_", paired!.DeviceId, StringComparison.Ordinal);
        Assert.NotEqual("dev_victim", paired.DeviceId);
    }

    [Fact]
    public async Task PairingTicket_IsNeverALastingCredential()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var link = await host.NewLinkAsync();
        using var http = host.PinnedHttp();
        using var asCredential = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantDeviceCredential, DeviceCredential = link.Ticket });
        Assert.Equal(HttpStatusCode.Unauthorized, asCredential.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "files/list");
        request.Headers.Authorization = new("Bearer", link.Ticket);
        using var asBearer = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, asBearer.StatusCode);
        var (socket, reply) = await host.ConnectRawAsync(link.Ticket);
        Assert.Equal(MessageTypes.AuthFailed, reply.Type);
        socket.Dispose();
        // Redeeming it properly still works once, and the credential it yields is not the ticket.
        var credentials = await host.PairAsync();
        Assert.DoesNotContain(link.Ticket, credentials.Credential, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/auth/../files/list")]
    [InlineData("/files/list/../../auth/x")]
    [InlineData("/x/auth/files/list")]
    [InlineData("/auth/files/list")]
    [InlineData("/files/list;/auth/")]
    [InlineData("/files/%2e%2e/auth")]
    public async Task PathsContainingAuth_DoNotBypassAuthentication(string path)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var http = host.PinnedHttp();
        using var response = await http.GetAsync(new Uri(host.BaseUri, path), Ct);
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed, HttpStatusCode.BadRequest });
    }

    [Fact]
    public async Task EveryEndpoint_ExceptTheListedPublicOnes_RequiresAuthentication()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var publicRoutes = new HashSet<string>(StringComparer.Ordinal)
        {
            "/health", "/pair", "/pair.js", "/atlas.css", "/icon.svg", "/pair/certificate", "/auth", "/ws", "{*path:nonfile}",
            // The chat page and its scripts hold no secrets; every call they make authenticates itself.
            "/",
            // The public files of wwwroot by path (modules, styles, icons, manifest, sw.js; never admin* or a page):
            // StaticAssetCachingTests.ManifestIconsAndFavicon_WithoutAuth_AreServed_AdminStaysClosed.
            "/{**path}",
            // Trusted mode: the CA certificate is public like any certificate (a phone installs it before pairing).
            "/ca.crt", "/ca.mobileconfig",
            // Admin and control have their own guards (loopback + admin cookie; Unix socket), tested separately.
        };
        var endpoints = host.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        foreach (var endpoint in endpoints)
        {
            var route = endpoint.RoutePattern.RawText ?? "";
            if (publicRoutes.Contains(route) || route.StartsWith("/admin", StringComparison.Ordinal) || route.StartsWith("/control", StringComparison.Ordinal))
            {
                continue;
            }

            Assert.True(endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null, $"{route} allows anonymous access");
        }

        // And the fallback policy makes unknown future endpoints authenticated by default.
        var authorization = host.App.Services.GetRequiredService<IOptions<AuthorizationOptions>>().Value;
        Assert.NotNull(authorization.FallbackPolicy);
    }

    [Fact]
    public async Task AuthEndpoint_MintsNothingForGarbage()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var http = host.PinnedHttp();
        foreach (var body in new[] { "{}", """{"grantType":"password","username":"admin"}""", """{"grantType":"pairing_ticket"}""",
                     """{"grantType":"device_credential","deviceCredential":"dev_x.abc"}""", "[]", "not json", new string('x', 20_000) })
        {
            using var response = await http.PostAsync("auth", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);
            Assert.False(response.IsSuccessStatusCode, body);
            Assert.DoesNotContain("sessionToken", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NoResponseCarriesWildcardCors()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        foreach (var path in new[] { "health", "pair", "files/list", "nope" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("Origin", "https://evil.example");
            using var response = await client.SendAsync(request, Ct);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"), path);
        }
    }

    [Fact]
    public void OllamaPort_IsRefusedAtStartup_WithAFix()
    {
        var result = new AtlasOptionsValidator().Validate(null, new AtlasOptions { Port = 11434 });
        Assert.True(result.Failed);
        Assert.Contains("Ollama", result.FailureMessage, StringComparison.Ordinal);
        Assert.Equal(47321, new AtlasOptions().Port);
    }
}
