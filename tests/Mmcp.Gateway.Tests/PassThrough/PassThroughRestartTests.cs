using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Mmcp.Core.Manifests;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Tests.PassThrough;

/// <summary>A pass-through session with its own upstream session survives a restart of its Streamable HTTP server: the next request gets a new upstream session.</summary>
[Trait("Speed", "slow")]
public sealed class PassThroughRestartTests : IAsyncDisposable
{
    private const string Path = "/servers/io.github.remote/mcp";
    private readonly TestEnvironment _env = new();
    private readonly int _port = FreeTcpPort();
    private ChildProcess? _server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _env.Dispose();
    }

    /// <summary>A read-only tool called after the server restarted (it answers 400 "No valid session ID") runs on a new upstream session of the same downstream session.</summary>
    [Fact]
    [Trait("Issue12", "3")]
    public async Task CallTool_ReadOnlyToolAfterHttpServerRestart_RetriedOnANewUpstreamSession()
    {
        await using var gateway = await StartAsync();
        await using var client = await gateway.ConnectAsync(Path, "2025-11-25");
        Assert.Equal("Echo: one", Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "one" }, cancellationToken: Ct)));

        await RestartEverythingAsync();
        var again = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "two" }, cancellationToken: Ct);
        var tools = await client.ListToolsAsync(cancellationToken: Ct);

        Assert.Equal("Echo: two", Text(again));
        Assert.Contains(tools, t => t.Name == "echo");
    }

    /// <summary>A tool that is not read-only or idempotent is not sent twice after a restart: the error says so, and the next call reaches the restarted server.</summary>
    [Fact]
    [Trait("Issue12", "3")]
    public async Task CallTool_NonIdempotentToolAfterHttpServerRestart_FailsClearlyThenNextCallWorks()
    {
        await using var gateway = await StartAsync();
        await using var client = await gateway.ConnectAsync(Path, "2025-11-25");
        await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "one" }, cancellationToken: Ct);

        await RestartEverythingAsync();
        var error = await Assert.ThrowsAsync<McpProtocolException>(async () => await client.CallToolAsync("toggle-simulated-logging", cancellationToken: Ct));
        var next = await client.CallToolAsync("toggle-simulated-logging", cancellationToken: Ct);

        Assert.Contains("restarted", error.Message, StringComparison.Ordinal);
        Assert.Contains("not sent again", error.Message, StringComparison.Ordinal);
        Assert.NotEqual(true, next.IsError);
    }

    /// <summary>A server that answers a lost session with 404 (the spec; the C# SDK's server) is read again on a new upstream session, and the downstream session lives on.</summary>
    [Fact]
    [Trait("Issue12", "3")]
    public async Task ReadResource_SpecServerRestartAnswers404_RetriedOnANewUpstreamSession()
    {
        var port = _port.ToString(CultureInfo.InvariantCulture);
        _server = await StartConformanceAsync(port);
        await _env.WriteManifestAsync(Servers.Manifest("io.github.remote", new HttpTransport { Url = new Uri($"http://127.0.0.1:{_port}/mcp") }));
        await using var gateway = await GatewayHost.StartAsync(_env);
        await using var client = await gateway.ConnectAsync(Path, "2025-11-25");
        await client.ReadResourceAsync("test://static-text", cancellationToken: Ct);

        await _server.DisposeAsync();
        _server = await StartConformanceAsync(port);
        var again = await client.ReadResourceAsync("test://static-text", cancellationToken: Ct);

        Assert.NotEmpty(again.Contents);
    }

    private static string Text(CallToolResult result) => ((TextContentBlock)result.Content[0]).Text;

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<ChildProcess> StartConformanceAsync(string port)
    {
        var server = ChildProcess.Start("dotnet", [Servers.ConformanceServerDll, "--http", port]);
        await server.WaitForLineAsync(l => l.Contains("listening on", StringComparison.Ordinal));
        return server;
    }

    private async Task<GatewayHost> StartAsync()
    {
        await StartEverythingAsync();
        await _env.WriteManifestAsync(Servers.Manifest("io.github.remote", new HttpTransport { Url = new Uri($"http://127.0.0.1:{_port}/mcp") }));
        return await GatewayHost.StartAsync(_env);
    }

    private async Task StartEverythingAsync()
    {
        var port = _port.ToString(CultureInfo.InvariantCulture);
        _server = ChildProcess.Start("node", [NpmServers.Script("server-everything"), "streamableHttp"], new Dictionary<string, string> { ["PORT"] = port });
        await _server.WaitForLineAsync(l => l.Contains(port, StringComparison.Ordinal));
    }

    private async Task RestartEverythingAsync()
    {
        await _server!.DisposeAsync();
        _server = null;
        await StartEverythingAsync();
    }
}
