using System.Diagnostics;
using System.Net;
using Mmcp.Client.Consent;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Tests.PassThrough;

/// <summary>/servers/{id}/mcp: unprefixed names, an upstream session per downstream session, the shared connection for stateless requests.</summary>
[Trait("Speed", "slow")]
public sealed class PassThroughTests
{
    [Fact]
    public async Task EachSession_GetsItsOwnUpstreamSession_AndStatelessRequestsShareTheHubs()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var ct = TestContext.Current.CancellationToken;

        await using var first = await gateway.ConnectAsync("/servers/io.test.alpha/mcp", "2025-11-25");
        await using var second = await gateway.ConnectAsync("/servers/io.test.alpha/mcp", "2025-11-25");
        await gateway.Hub.ListToolsAsync("io.test.alpha", ct); // the shared connection is up: the stateless probe is answered at once
        await using var stateless = await gateway.ConnectAsync("/servers/io.test.alpha/mcp");
        var firstPid = await PidAsync(first);
        var secondPid = await PidAsync(second);
        var statelessPid = await PidAsync(stateless);

        Assert.Equal("io.mmcp.tests.server", first.ServerInfo?.Name);
        Assert.Contains(await first.ListToolsAsync(cancellationToken: ct), t => t.Name == "echo");
        Assert.NotEqual(firstPid, secondPid);
        Assert.Null(stateless.SessionId);
        Assert.Equal(gateway.Hub.GetServerStatus("io.test.alpha").ProcessId, statelessPid);
        Assert.NotEqual(firstPid, statelessPid);

        // Ending the session ends its upstream session (here: its process).
        using var process = Process.GetProcessById(firstPid);
        await first.DisposeAsync();
        await process.WaitForExitAsync(ct).WaitAsync(TestTimeouts.Default, ct);
    }

    [Fact]
    public async Task UpstreamListChanged_ReachesTheSessionThatCausedIt()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var ct = TestContext.Current.CancellationToken;
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers { NotificationHandlers = [new(NotificationMethods.ToolListChangedNotification, (_, _) => { changed.TrySetResult(); return ValueTask.CompletedTask; })] },
        };
        await using var client = await gateway.ConnectAsync("/servers/io.test.alpha/mcp", "2025-11-25", options);

        await client.CallToolAsync("add_tool", new Dictionary<string, object?> { ["name"] = "late_tool" }, cancellationToken: ct);
        await changed.Task.WaitAsync(TestTimeouts.Default, ct);
        var tools = await client.ListToolsAsync(cancellationToken: ct);

        Assert.Contains(tools, t => t.Name == "late_tool");
    }

    [Fact]
    public async Task ToolOnlyThisSessionsUpstreamLists_IsStillHeldToConsent()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var ct = TestContext.Current.CancellationToken;
        await gateway.Consent.SetToolAsync("io.test.alpha", "late_tool", ConsentDecision.Deny, cancellationToken: ct);
        await using var client = await gateway.ConnectAsync("/servers/io.test.alpha/mcp", "2025-11-25");

        // The tool exists only in this session's own upstream process; the hub's shared connection never saw it.
        await client.CallToolAsync("add_tool", new Dictionary<string, object?> { ["name"] = "late_tool" }, cancellationToken: ct);
        var refused = await Assert.ThrowsAsync<McpProtocolException>(async () => await client.CallToolAsync("late_tool", cancellationToken: ct));

        Assert.Equal(-32010, (int)refused.ErrorCode);
        Assert.DoesNotContain(await client.ListToolsAsync(cancellationToken: ct), t => t.Name == "late_tool");
    }

    [Fact]
    public async Task ServerErrors_PassThroughWithTheServersOwnCodes()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var client = await gateway.ConnectAsync("/servers/io.test.alpha/mcp", "2025-11-25");
        var ct = TestContext.Current.CancellationToken;

        var toolError = await client.CallToolAsync("fail", new Dictionary<string, object?> { ["message"] = "bad day" }, cancellationToken: ct);
        var unknown = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("missing_tool", cancellationToken: ct).AsTask());

        Assert.True(toolError.IsError);
        Assert.Contains("bad day", ((TextContentBlock)toolError.Content[0]).Text, StringComparison.Ordinal);
        Assert.Equal(McpErrorCode.InvalidParams, unknown.ErrorCode);
    }

    [Fact]
    public async Task SessionOfAnotherEndpoint_IsNotFound()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var aggregated = await gateway.ConnectAsync("/mcp", "2025-11-25");

        var (status, _) = await gateway.PostJsonAsync("/servers/io.test.alpha/mcp", """{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{}}""", r =>
        {
            r.Headers.Add("Mcp-Session-Id", aggregated.SessionId);
            r.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        });

        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task UnknownServer_Is404NamingTheKnownOnes()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);

        var (status, body) = await gateway.PostJsonAsync("/servers/io.test.nobody/mcp", """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("io.test.alpha", body, StringComparison.Ordinal);
    }

    /// <summary>When every dedicated session is taken, a new session is refused with 503, Retry-After and a JSON-RPC error, not degraded silently.</summary>
    [Fact]
    [Trait("Issue12", "3")]
    public async Task NewSession_AtTheDedicatedCap_Is503WithRetryAfterAndAJsonRpcError()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.MaxDedicatedSessions = 1);
        var ct = TestContext.Current.CancellationToken;
        await using var first = await gateway.ConnectAsync("/servers/io.test.alpha/mcp", "2025-11-25");

        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.Url + "/servers/io.test.alpha/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":"init-2","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await gateway.Http.SendAsync(request, ct);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
        Assert.Equal("init-2", body["id"]!.GetValue<string>());
        Assert.Equal((int)McpErrorCode.InternalError, body["error"]!["code"]!.GetValue<int>());
        Assert.Contains("MaxDedicatedSessions", body["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(await first.ListToolsAsync(cancellationToken: ct), t => t.Name == "echo"); // the session holding the slot goes on
    }

    private static async Task<int> PidAsync(McpClient client)
    {
        var result = await client.CallToolAsync("pid", cancellationToken: TestContext.Current.CancellationToken);
        return int.Parse(((TextContentBlock)result.Content[0]).Text, System.Globalization.CultureInfo.InvariantCulture);
    }
}
