using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Tests.Admin;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Network;

/// <summary>Item 15 of issue 8: the Origin check with more than one value, unauthenticated WebSockets, and the
/// case of the <c>Bearer</c> scheme.</summary>
public sealed class OriginAndSocketHardeningTests
{
    private const string Evil = "https://evil.example";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> OriginVariants => new()
    {
        { "rest", "two headers, own first" },
        { "rest", "two headers, foreign first" },
        { "rest", "two own headers" },
        { "rest", "comma list" },
        { "websocket", "two headers, own first" },
        { "websocket", "two headers, foreign first" },
        { "websocket", "two own headers" },
        { "websocket", "comma list" },
        { "admin", "two headers, own first" },
        { "admin", "two headers, foreign first" },
        { "admin", "two own headers" },
        { "admin", "comma list" },
    };

    /// <summary>Regression: the Origin check ran only when exactly one Origin header was present, so two headers
    /// (one foreign) got REST 200, WebSocket 101 and admin POST 200.</summary>
    [Theory]
    [Trait("Hardening", "15")]
    [MemberData(nameof(OriginVariants))]
    public async Task Request_WithMoreThanOneOriginValue_RefusedWithOriginNotAllowed(string target, string variant)
    {
        await using var host = await AtlasTestHost.StartAsync();
        var own = host.BaseUri.GetLeftPart(UriPartial.Authority);
        string[] origins = variant switch
        {
            "two headers, own first" => ["Origin: " + own, "Origin: " + Evil],
            "two headers, foreign first" => ["Origin: " + Evil, "Origin: " + own],
            "two own headers" => ["Origin: " + own, "Origin: " + own],
            _ => [$"Origin: {own}, {Evil}"],
        };
        var (requestLine, headers, accepted) = target switch
        {
            "rest" => ("GET /health", Array.Empty<string>(), 200),
            "websocket" => ("GET /ws", LanPeer.UpgradeHeaders(), 101),
            _ => ("POST /admin/api/pair", [$"Cookie: {AdminSessions.CookieName}={await AdminCookieAsync(host)}", $"{AdminEndpoints.Header}: 1", "Content-Length: 0"], 200),
        };

        // The same request with one Origin of the desktop's own is accepted: only the extra value makes the difference.
        var (single, _) = await LanPeer.SendRawAsync(host, LanPeer.Head(host, requestLine, [.. headers, "Origin: " + own]));
        Assert.Equal(accepted, single);

        var (status, text) = await LanPeer.SendRawAsync(host, LanPeer.Head(host, requestLine, [.. headers, .. origins]));
        Assert.Equal(403, status);
        Assert.Contains($"\"code\":\"{ErrorCodes.OriginNotAllowed}\"", text, StringComparison.Ordinal);
    }

    /// <summary>Regression: sockets that never sent an <c>auth</c> frame were not limited (300 from one host were all
    /// upgraded and held until the auth timeout).</summary>
    [Fact]
    [Trait("Hardening", "15")]
    public async Task WebSocketUpgrade_UnauthenticatedBeyondCaps_RefusedWithTooManyConnectionsUntilOneAuthenticates()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Atlas:WebSocket:MaxUnauthenticatedConnections"] = "4",
            ["Atlas:WebSocket:MaxUnauthenticatedConnectionsPerAddress"] = "2",
            ["Atlas:WebSocket:AuthTimeout"] = "00:05:00", // the held sockets must not time out during the test
        });
        var held = new List<ClientWebSocket>();
        try
        {
            foreach (var source in new[] { "127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2" })
            {
                var (socket, status) = await LanPeer.WebSocketAsync(host, source);
                held.Add(socket);
                Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
                Assert.Equal(WebSocketState.Open, socket.State);
            }

            // Per address: a third socket from 127.0.0.1 is refused. In total: a first one from 127.0.0.3 is refused too.
            foreach (var source in new[] { "127.0.0.1", "127.0.0.3" })
            {
                var (refused, status) = await LanPeer.WebSocketAsync(host, source);
                held.Add(refused);
                Assert.Equal(HttpStatusCode.TooManyRequests, status);
                Assert.NotEqual(WebSocketState.Open, refused.State);
            }

            // A socket that authenticates stops counting: its address may open another one at once.
            var (_, token) = await host.ProvisionAsync("phone");
            await AtlasTestHost.SendAsync(held[0], new AtlasEnvelope
            {
                Type = MessageTypes.Auth,
                Id = "a1",
                Data = JsonSerializer.SerializeToElement(new AuthFrame { Token = token }, AtlasJsonContext.Default.AuthFrame),
            });
            Assert.Equal(MessageTypes.AuthSuccess, (await AtlasTestHost.ReceiveAsync(held[0]))!.Type);
            var (next, nextStatus) = await LanPeer.WebSocketAsync(host, "127.0.0.1");
            held.Add(next);
            Assert.Equal(HttpStatusCode.SwitchingProtocols, nextStatus);
        }
        finally
        {
            foreach (var socket in held)
            {
                socket.Abort();
                socket.Dispose();
            }
        }
    }

    /// <summary>Regression: only the exact spelling <c>Bearer</c> was read; RFC 7235 makes the scheme case-insensitive,
    /// so <c>bearer</c> and <c>BEARER</c> got 401.</summary>
    [Theory]
    [Trait("Hardening", "15")]
    [InlineData("Bearer")]
    [InlineData("bearer")]
    [InlineData("BEARER")]
    [InlineData("bEaReR")]
    public async Task RestRequest_BearerSchemeInAnyCase_IsAuthenticated(string scheme)
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (_, token) = await host.ProvisionAsync("phone");
        using var http = host.PinnedHttp();
        using var request = new HttpRequestMessage(HttpMethod.Get, "files/list");
        Assert.True(request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {token}"));
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<string> AdminCookieAsync(AtlasTestHost host)
    {
        var cookies = new CookieContainer();
        using var http = AdminClient.NewHttp(host, cookies);
        var link = host.Get<AdminSessions>().CreateLink();
        using var login = await http.PostAsJsonAsync("admin/login", new { code = link[(link.IndexOf("#code=", StringComparison.Ordinal) + 6)..] }, Ct);
        Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        return cookies.GetCookies(host.BaseUri)[AdminSessions.CookieName]!.Value;
    }
}
