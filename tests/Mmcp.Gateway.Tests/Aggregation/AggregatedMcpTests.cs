using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Tests.Aggregation;

/// <summary>The aggregated /mcp endpoint with real stdio servers behind the hub, through the C# SDK client in both protocol eras.</summary>
public sealed class AggregatedMcpTests
{
    [Theory]
    [InlineData(null)] // the SDK's default: 2026-07-28, stateless
    [InlineData("2025-11-25")] // session-based
    [InlineData("2025-06-18")]
    public async Task ListAndCall_EitherEra_UsesPrefixedNames(string? protocolVersion)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var client = await gateway.ConnectAsync(protocolVersion: protocolVersion);

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var result = await client.CallToolAsync("io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "hello" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains(tools, t => t.Name == "io_test_alpha__echo");
        Assert.Equal(protocolVersion ?? "2026-07-28", client.NegotiatedProtocolVersion);
        Assert.Equal(protocolVersion is null, client.SessionId is null);
        Assert.Contains("hello", ((TextContentBlock)result.Content[0]).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_WithProgressToken_StreamsEveryProgressNotificationBeforeTheResult()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway);

        // Regression: the last notification used to be lost (the SDK ran the upstream progress handler after the
        // call had returned); the hub now routes progress as it reads it, before the response. Checked on the wire:
        // the SDK client dispatches notifications and responses on separate paths, so a client-side count could miss
        // a notification that arrived in time.
        var answer = await session.PostAsync("""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"io_test_alpha__progress","arguments":{"steps":3,"holdMilliseconds":0},"_meta":{"progressToken":"p5"}}}""");

        Assert.Equal("text/event-stream", answer.ContentType);
        var events = answer.Body.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => JsonNode.Parse(l["data:".Length..])!).ToList();
        var progress = events.TakeWhile(e => e["method"] is not null).ToList();
        Assert.Equal([1.0, 2.0, 3.0], progress.Select(e => e["params"]!["progress"]!.GetValue<double>()));
        Assert.All(progress, e => Assert.Equal("p5", e["params"]!["progressToken"]!.GetValue<string>()));
        Assert.Equal("done 3", events[^1]["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(4, events.Count);
    }

    [Fact]
    public async Task CancelledCall_IsCancelledOnTheServer()
    {
        using var env = new TestEnvironment();
        // Regression: the SDK (2.3.1) abandoned a cancelled request without notifications/cancelled; the hub now sends it.
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var ct = TestContext.Current.CancellationToken;
        using var watch = new UpstreamCancellationWatch(gateway.Hub, "io.test.alpha", "wait");

        await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_alpha__echo","arguments":{"text":"warm"}}""");

        // The caller gives up (closes the request): the gateway cancels the upstream request.
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var call = gateway.Http.PostAsync(gateway.Url + "/mcp/tools/call", new StringContent("""{"name":"io_test_alpha__wait","arguments":{"milliseconds":600000}}""", System.Text.Encoding.UTF8, "application/json"), giveUp.Token);
        await watch.CallSent;
        await giveUp.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await watch.CancelSent;
    }

    [Fact]
    public async Task UnknownTool_IsInvalidParamsNamingTheTool()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var client = await gateway.ConnectAsync();

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("io_test_alpha__nope", cancellationToken: TestContext.Current.CancellationToken).AsTask());

        Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);
        Assert.Contains("io_test_alpha__nope", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Regression: a server's -32602 about its own result reached the client as "rejected the arguments"; the client
    /// gets the server's code and words, with what the server answered, on /mcp and on REST.
    /// </summary>
    [Fact]
    public async Task ServerInvalidParamsAboutItsResult_IsNotReportedAsRejectedArguments()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var client = await gateway.ConnectAsync();

        const string OutputInvalid = "Output validation error: Invalid structured content for tool fail: must have required property 'a'";
        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("io_test_alpha__fail", new Dictionary<string, object?> { ["message"] = OutputInvalid, ["code"] = -32602 }, cancellationToken: TestContext.Current.CancellationToken).AsTask());
        var (status, body) = await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_alpha__fail","arguments":{"message":"MESSAGE","code":-32602}}""".Replace("MESSAGE", OutputInvalid, StringComparison.Ordinal));

        Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);
        Assert.Contains("answered tools/call 'fail' with JSON-RPC error -32602", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Output validation error", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("rejected the arguments", ex.Message, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);
        Assert.Contains("Output validation error", body, StringComparison.Ordinal);
        Assert.DoesNotContain("rejected the arguments", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CrashingServer_ErrorCarriesTheServerId()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var client = await gateway.ConnectAsync();

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("io_test_alpha__crash", new Dictionary<string, object?> { ["exitCode"] = 3, ["message"] = "boom" }, cancellationToken: TestContext.Current.CancellationToken).AsTask());
        var after = await client.CallToolAsync("io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "back" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(McpErrorCode.InternalError, ex.ErrorCode);
        Assert.Contains("io.test.alpha", ex.Message, StringComparison.Ordinal);
        Assert.Contains("back", ((TextContentBlock)after.Content[0]).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerAdded_SessionClientGetsToolListChanged()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var notifications = System.Threading.Channels.Channel.CreateUnbounded<bool>();
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers { NotificationHandlers = [new(NotificationMethods.ToolListChangedNotification, (_, _) => { notifications.Writer.TryWrite(true); return ValueTask.CompletedTask; })] },
        };
        await using var client = await gateway.ConnectAsync(protocolVersion: "2025-11-25", options: options);
        var ct = TestContext.Current.CancellationToken;
        Assert.True(client.ServerCapabilities.Tools?.ListChanged);
        Assert.DoesNotContain(await client.ListToolsAsync(cancellationToken: ct), t => t.Name.StartsWith("io_test_beta__", StringComparison.Ordinal));

        await env.WriteManifestAsync(Servers.TestServer("io.test.beta"));

        // Every notification makes the client list again (as clients do) until the new server's tools are there.
        while (true)
        {
            await notifications.Reader.ReadAsync(ct).AsTask().WaitAsync(TestTimeouts.Default, ct);
            if ((await client.ListToolsAsync(cancellationToken: ct)).Any(t => t.Name == "io_test_beta__echo"))
            {
                break;
            }
        }
    }

    [Fact]
    public async Task ResourcesAndPrompts_AreAggregatedWithTheirServer()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var client = await gateway.ConnectAsync(protocolVersion: "2025-11-25");
        var ct = TestContext.Current.CancellationToken;

        var resources = await client.ListResourcesAsync(cancellationToken: ct);
        var templates = await client.ListResourceTemplatesAsync(cancellationToken: ct);
        var read = await client.ReadResourceAsync("test://static", cancellationToken: ct);
        var fromTemplate = await client.ReadResourceAsync("test://items/42", cancellationToken: ct);
        var prompts = await client.ListPromptsAsync(cancellationToken: ct);

        var resource = Assert.Single(resources, r => r.Uri == "test://static");
        Assert.Equal("io.test.alpha", resource.ProtocolResource.Meta?["io.mmcp/server"]?.GetValue<string>());
        Assert.Contains(templates, t => t.UriTemplate == "test://items/{id}");
        Assert.Equal("static content", ((TextResourceContents)read.Contents[0]).Text);
        Assert.Contains("42", ((TextResourceContents)fromTemplate.Contents[0]).Text, StringComparison.Ordinal);
        var prompt = prompts.First(p => p.Name.StartsWith("io_test_alpha__", StringComparison.Ordinal));
        var got = await client.GetPromptAsync(prompt.Name, prompt.ProtocolPrompt.Arguments?.ToDictionary(a => a.Name, _ => (object?)"x"), cancellationToken: ct);
        Assert.NotEmpty(got.Messages);
    }

    /// <summary>
    /// A server that declares resources but answers resources/templates/list with -32601 (the TypeScript SDK's
    /// low-level Server without a templates handler) has its resources listed, on /mcp and REST, with no failure.
    /// </summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task Resources_ServerWithoutTemplatesList_AreListedAndRead()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var client = await gateway.ConnectAsync(protocolVersion: "2025-11-25");
        var ct = TestContext.Current.CancellationToken;

        var resources = await client.ListResourcesAsync(cancellationToken: ct);
        var templates = await client.ListResourceTemplatesAsync(cancellationToken: ct);
        var (_, rest) = await gateway.GetAsync("/mcp/resources/list");

        var resource = Assert.Single(resources);
        Assert.Empty(templates);
        Assert.Equal("cut://emoji", resource.Uri);
        Assert.Contains("cut://emoji", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("failures\":[{", rest, StringComparison.Ordinal);
        Assert.StartsWith("smile ", ((TextResourceContents)(await client.ReadResourceAsync(resource.Uri, cancellationToken: ct)).Contents[0]).Text, StringComparison.Ordinal);
    }

    /// <summary>
    /// A server adds a tool and a client calls it at once. The gateway does not know the name yet and lists once more,
    /// but a server whose live list is not back at once is listed from its last known list (the hub waits
    /// <c>StartingServerListWait</c> for it: zero here, as a slow server or a loaded machine makes it), so the call
    /// failed with "No tool is named". A name the gateway does not know now makes it ask that name's server afresh.
    /// </summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task CallingANewToolAtOnce_AsksItsServerAfresh()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, services: s => s.Configure<Mmcp.Client.MmcpHubOptions>(o => o.StartingServerListWait = TimeSpan.Zero));
        await using var client = await gateway.ConnectAsync(protocolVersion: "2025-11-25");
        var ct = TestContext.Current.CancellationToken;
        Assert.Contains(await client.ListToolsAsync(cancellationToken: ct), t => t.Name == "io_test_alpha__echo");

        await client.CallToolAsync("io_test_alpha__add_tool", new Dictionary<string, object?> { ["name"] = "fresh" }, cancellationToken: ct);
        var result = await client.CallToolAsync("io_test_alpha__fresh", cancellationToken: ct);

        Assert.Equal("fresh", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }
}
