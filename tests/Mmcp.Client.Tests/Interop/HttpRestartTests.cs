using System.Globalization;
using System.Text.Json.Nodes;
using Mmcp.Core.Manifests;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Tests.Interop;

/// <summary>A Streamable HTTP server that restarts (and so forgets the hub's session) is reached again on a new session.</summary>
[Trait("Speed", "slow")]
public sealed class HttpRestartTests : IAsyncDisposable
{
    private readonly TestEnvironment _env = new();
    private readonly int _port = Servers.FreeTcpPort();
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

    /// <summary>A read-only tool called after the server restarted runs on a new session, and health counts the failure.</summary>
    [Fact]
    [Trait("Issue12", "2")]
    public async Task CallTool_ReadOnlyToolAfterServerRestart_RetriedOnANewSession()
    {
        await using var hub = await StartAsync();
        Assert.Equal("Echo: one", HubToolResults.GetText(await hub.CallToolAsync("io.github.remote", "echo", new Dictionary<string, object?> { ["message"] = "one" }, cancellationToken: Ct)));

        await RestartServerAsync();
        var again = await hub.CallToolAsync("io.github.remote", "echo", new Dictionary<string, object?> { ["message"] = "two" }, cancellationToken: Ct);

        Assert.Equal("Echo: two", HubToolResults.GetText(again));
        var status = hub.GetServerStatus("io.github.remote");
        Assert.Equal(ServerState.Connected, status.State);
        Assert.Equal(HubErrorCode.ServerCrashed, status.LastFailure?.Code);
        Assert.Equal(1, status.Reconnects);
    }

    /// <summary>tools/list after the server restarted is retried on a new session.</summary>
    [Fact]
    [Trait("Issue12", "2")]
    public async Task ListTools_AfterServerRestart_RetriedOnANewSession()
    {
        await using var hub = await StartAsync();
        await hub.CallToolAsync("io.github.remote", "echo", new Dictionary<string, object?> { ["message"] = "one" }, cancellationToken: Ct);

        await RestartServerAsync();
        var response = await hub.SendRequestAsync("io.github.remote", new JsonRpcRequest { Method = "tools/list" }, Ct);

        Assert.Contains("echo", response.Result?.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(1, hub.GetServerStatus("io.github.remote").Reconnects);
    }

    /// <summary>A tools/call forwarded as it is, for a tool annotated read-only, is retried on a new session after the server restarted.</summary>
    [Fact]
    [Trait("Issue12", "2")]
    public async Task SendRequest_ReadOnlyToolCallAfterServerRestart_RetriedOnANewSession()
    {
        await using var hub = await StartAsync();
        await hub.CallToolAsync("io.github.remote", "echo", new Dictionary<string, object?> { ["message"] = "one" }, cancellationToken: Ct);

        await RestartServerAsync();
        var response = await hub.SendRequestAsync("io.github.remote", ToolCall("echo", new JsonObject { ["message"] = "two" }), Ct);

        Assert.Contains("Echo: two", response.Result?.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(1, hub.GetServerStatus("io.github.remote").Reconnects);
    }

    /// <summary>A tool that is not read-only or idempotent is not sent twice: the error says the server restarted and the call was not retried, and the next call works.</summary>
    [Fact]
    [Trait("Issue12", "2")]
    public async Task SendRequest_NonIdempotentToolCallAfterServerRestart_FailsClearlyThenNextCallWorks()
    {
        await using var hub = await StartAsync();
        await hub.CallToolAsync("io.github.remote", "echo", new Dictionary<string, object?> { ["message"] = "one" }, cancellationToken: Ct);

        await RestartServerAsync();
        var error = await Assert.ThrowsAsync<HubException>(() => hub.SendRequestAsync("io.github.remote", ToolCall("toggle-simulated-logging", new JsonObject()), Ct).AsTask());
        var next = await hub.SendRequestAsync("io.github.remote", ToolCall("toggle-simulated-logging", new JsonObject()), Ct);

        Assert.Equal(HubErrorCode.ServerCrashed, error.Code);
        Assert.Contains("restarted", error.Message, StringComparison.Ordinal);
        Assert.Contains("not retried", error.Message, StringComparison.Ordinal);
        Assert.NotNull(next.Result);
        var status = hub.GetServerStatus("io.github.remote");
        Assert.Equal(ServerState.Connected, status.State);
        Assert.Equal(HubErrorCode.ServerCrashed, status.LastFailure?.Code);
        Assert.Equal(1, status.Reconnects);
    }

    /// <summary>A server that answers a lost session with 404 (the spec; the C# SDK's server) is read again on a new session.</summary>
    [Fact]
    [Trait("Issue12", "2")]
    public async Task ReadResource_SpecServerRestartAnswers404_RetriedOnANewSession()
    {
        var conformance = Path.Combine(AppContext.BaseDirectory, "Mmcp.ConformanceServer.dll");
        var port = _port.ToString(CultureInfo.InvariantCulture);
        _server = ChildProcess.Start("dotnet", [conformance, "--http", port]);
        await _server.WaitForLineAsync(l => l.Contains("listening on", StringComparison.Ordinal));
        await _env.WriteManifestAsync(Servers.Manifest("io.github.remote", new HttpTransport { Url = new Uri($"http://127.0.0.1:{_port}/mcp") }));
        await using var hub = _env.CreateHub();
        await hub.ReadResourceAsync("io.github.remote", "test://static-text", Ct);

        await _server.DisposeAsync();
        _server = ChildProcess.Start("dotnet", [conformance, "--http", port]);
        await _server.WaitForLineAsync(l => l.Contains("listening on", StringComparison.Ordinal));
        var again = await hub.ReadResourceAsync("io.github.remote", "test://static-text", Ct);

        Assert.NotEmpty(again.Contents);
        var status = hub.GetServerStatus("io.github.remote");
        Assert.Equal(1, status.Reconnects);
        Assert.Equal(HubErrorCode.ServerCrashed, status.LastFailure?.Code);
    }

    private static JsonRpcRequest ToolCall(string name, JsonObject arguments) =>
        new() { Method = "tools/call", Params = new JsonObject { ["name"] = name, ["arguments"] = arguments } };

    private async Task<MmcpHub> StartAsync()
    {
        await StartServerAsync();
        await _env.WriteManifestAsync(Servers.Manifest("io.github.remote", new HttpTransport { Url = new Uri($"http://127.0.0.1:{_port}/mcp") }));
        return _env.CreateHub();
    }

    private async Task StartServerAsync()
    {
        var port = _port.ToString(CultureInfo.InvariantCulture);
        _server = ChildProcess.Start("node", [Servers.NpmServer("server-everything"), "streamableHttp"], new Dictionary<string, string> { ["PORT"] = port });
        await _server.WaitForLineAsync(l => l.Contains(port, StringComparison.Ordinal));
    }

    private async Task RestartServerAsync()
    {
        await _server!.DisposeAsync();
        _server = null;
        await StartServerAsync();
    }
}
