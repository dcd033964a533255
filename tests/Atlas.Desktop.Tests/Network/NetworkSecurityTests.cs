using System.Net;
using System.Net.WebSockets;
using Atlas.Client.Protocol;
using Atlas.Desktop.Network;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atlas.Desktop.Tests.Network;

public sealed class NetworkSecurityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("http://127.0.0.1.evil.com")]
    [InlineData("null")]
    public async Task WebSocket_FromForeignOrigin_IsRefused(string origin)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var socket = host.NewSocket(origin);
        var error = await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(host.WebSocketUri, Ct));
        Assert.Contains("403", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSocket_FromOwnOriginExactly_IsAccepted_ButPrefixVariantsAreNot()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var own = host.BaseUri.GetLeftPart(UriPartial.Authority);
        using (var socket = host.NewSocket(own))
        {
            await socket.ConnectAsync(host.WebSocketUri, Ct);
            Assert.Equal(WebSocketState.Open, socket.State);
        }

        // Regression: origin checks by prefix regex let http://192.168.evil.com through.
        foreach (var variant in new[] { own + ".evil.com", own + "0", own.Replace("https", "http", StringComparison.Ordinal), own + "/" })
        {
            using var socket = host.NewSocket(variant);
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(host.WebSocketUri, Ct));
        }
    }

    [Fact]
    public async Task ForgedHost_IsRefused()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var http = host.PinnedHttp();
        foreach (var forged in new[] { "evil.example", "127.0.0.1.nip.io", "attacker.local:1" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "health");
            request.Headers.Host = forged;
            using var response = await http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(ErrorCodes.HostNotAllowed, await AtlasTestHost.ErrorCodeAsync(response));
        }
    }

    [Theory]
    [InlineData("files/list?token=st_x")]
    [InlineData("files/list?access_token=abc")]
    [InlineData("ws?token=abc")]
    [InlineData("health?ticket=abc")]
    [InlineData("files/read?path=a&SessionToken=x")]
    public async Task TokenInQueryString_IsRefused(string path)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, path), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(ErrorCodes.TokenInQuery, await AtlasTestHost.ErrorCodeAsync(response));
    }

    [Fact]
    public async Task CorsPreflightFromForeignOrigin_GetsNoAllowOrigin()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var http = host.PinnedHttp();
        foreach (var origin in new[] { "https://evil.example", host.BaseUri.GetLeftPart(UriPartial.Authority) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, "files/list");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "GET");
            using var response = await http.SendAsync(request, Ct);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }
    }

    [Theory]
    [InlineData("8.8.8.8", false)]
    [InlineData("100.64.1.1", false)]
    [InlineData("192.0.2.2", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("::ffff:8.8.8.8", false)]
    [InlineData("192.168.1.23", true)]
    [InlineData("10.0.0.5", true)]
    [InlineData("172.31.0.1", true)]
    [InlineData("169.254.3.4", true)]
    [InlineData("fd00::2", true)]
    [InlineData("fe80::1", true)]
    [InlineData("::ffff:192.168.0.1", true)]
    public async Task RemoteAddressOutsidePrivateRanges_IsRefused(string address, bool allowed)
    {
        var policy = new NetworkPolicy(["127.0.0.1"], allowCgnat: false);
        var reached = false;
        var guard = new NetworkGuardMiddleware(_ => { reached = true; return Task.CompletedTask; }, policy, NullLogger<NetworkGuardMiddleware>.Instance);
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);
        context.Connection.LocalIpAddress = IPAddress.Loopback;
        context.Request.Host = new HostString("127.0.0.1");
        context.Request.Path = "/health";
        context.Request.Headers["X-Forwarded-For"] = "127.0.0.1"; // never trusted
        context.Response.Body = new MemoryStream();
        await guard.InvokeAsync(context);
        Assert.Equal(allowed, reached);
        if (!allowed)
        {
            Assert.Equal(StatusCodes.Status403Forbidden, context.Response.StatusCode);
        }
    }

    [Fact]
    public void InterfaceSelector_SkipsVpnVirtualAndContainerAdapters_AndPublicAddresses()
    {
        // Regression: "first non-internal IPv4" put a VPN adapter's address in the QR code.
        AdapterInfo Adapter(string name, string address, bool up = true, bool isVirtual = false) =>
            new(name, up, false, isVirtual, [IPAddress.Parse(address)]);
        var adapters = new[]
        {
            Adapter("tun0", "10.8.0.2"), Adapter("wg0", "10.9.0.2"), Adapter("docker0", "172.17.0.1"), Adapter("br-1a2b", "172.18.0.1"),
            Adapter("tailscale0", "100.100.1.1"), Adapter("vboxnet0", "192.168.56.1"), Adapter("ppp0", "10.64.0.1", isVirtual: true),
            Adapter("eth1", "203.0.113.5"), Adapter("eth2", "192.168.7.7", up: false), Adapter("wlan0", "192.168.1.23"),
        };
        var chosen = InterfaceSelector.Select(adapters, [], allowCgnat: false);
        Assert.Equal([IPAddress.Parse("192.168.1.23")], chosen.Select(c => c.Address).ToArray());

        var pinned = InterfaceSelector.Select(adapters, ["docker0"], allowCgnat: false);
        Assert.Equal([IPAddress.Parse("172.17.0.1")], pinned.Select(c => c.Address).ToArray());
        Assert.Throws<InvalidOperationException>(() => InterfaceSelector.Select(adapters, ["203.0.113.5"], allowCgnat: false));
        Assert.Throws<InvalidOperationException>(() => InterfaceSelector.Select(adapters, ["eth9"], allowCgnat: false));
    }

    [Fact]
    public async Task Server_ListensOnlyOnLoopbackWithTls_NotOnAllInterfacesOrPlainHttp()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var addresses = host.App.Urls;
        Assert.All(addresses.Where(a => !a.StartsWith("http://unix:", StringComparison.Ordinal)), a => Assert.StartsWith("https://127.0.0.1:", a, StringComparison.Ordinal));
        Assert.DoesNotContain(addresses, a => a.Contains("0.0.0.0", StringComparison.Ordinal) || a.Contains("[::]", StringComparison.Ordinal));

        // Plain ws:// / http:// on the port gets no protocol answer (regression: plain ws while the UI claimed encryption).
        using var plain = new HttpClient { Timeout = TestTimeouts.Default };
        var url = new UriBuilder(host.BaseUri) { Scheme = "http" }.Uri;
        var exception = await Record.ExceptionAsync(async () => (await plain.GetAsync(new Uri(url, "health"), Ct)).EnsureSuccessStatusCode());
        Assert.NotNull(exception);
    }

    [Fact]
    public async Task ControlApi_IsNotReachableOverTcp_AndSocketIsUserOnly()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var http = host.PinnedHttp();
        foreach (var path in new[] { "control/state", "control/devices", "control/admin-link" })
        {
            using var response = await http.PostAsync(path, null, Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix file modes");
        var socket = Path.Combine(host.DataDir, "control.sock");
#pragma warning disable CA1416 // Guarded by the skip above.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(host.DataDir));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(host.DataDir, "identity", "key.pem")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(host.DataDir, "atlas.db")));
#pragma warning restore CA1416
    }
}
