using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mmcp.Gateway.Security;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

#pragma warning disable MCP9005 // sampling, roots and logging are deprecated by 2026-07-28; these tests run 2025-era sessions

namespace Mmcp.Gateway.Tests.Aggregation;

/// <summary>What upstream servers send on their own reaches the right /mcp client: log messages, questions (sampling, elicitation, roots), completions, resource updates.</summary>
public sealed class ServerToClientTests
{
    private const string Era = "2025-11-25";
    private const string Everything = "io.ev";

    // ------------------------------------------------------------------ (a) logging

    /// <summary>A log message of a real upstream reaches the /mcp client, its logger naming the server.</summary>
    [Fact]
    [Trait("Issue12", "4")]
    public async Task UpstreamLogMessage_ReachesTheClient_TaggedWithTheServerId()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        await using var gateway = await GatewayHost.StartAsync(env);
        var logs = new LogSink();
        await using var client = await gateway.ConnectAsync(protocolVersion: Era, options: new McpClientOptions { Handlers = new McpClientHandlers { NotificationHandlers = [logs.Handler] } });

        Assert.NotNull(client.ServerCapabilities.Logging);
        await client.CallToolAsync("io_ev__toggle-simulated-logging", cancellationToken: TestContext.Current.CancellationToken);
        var message = await logs.WaitAsync(_ => true);

        Assert.Equal(Everything, message.Logger);
        Assert.Contains("message", message.Data.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A logger the server named is kept after the server id, and messages below the client's logging/setLevel are not forwarded.</summary>
    [Fact]
    [Trait("Issue12", "4")]
    public async Task UpstreamLogMessage_BelowTheClientsLevel_IsFilteredAndTheLoggerIsPrefixed()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var logs = new LogSink();
        await using var client = await gateway.ConnectAsync(protocolVersion: Era, options: new McpClientOptions { Handlers = new McpClientHandlers { NotificationHandlers = [logs.Handler] } });
        await client.SetLoggingLevelAsync(LoggingLevel.Warning, cancellationToken: TestContext.Current.CancellationToken);

        await client.CallToolAsync("io_test_alpha__log", new Dictionary<string, object?> { ["levels"] = new[] { "debug", "info", "error" }, ["message"] = "disk full", ["logger"] = "worker" }, cancellationToken: TestContext.Current.CancellationToken);
        var error = await logs.WaitAsync(m => m.Level == LoggingLevel.Error);

        Assert.Equal("io.test.alpha/worker", error.Logger);
        Assert.Equal("disk full", error.Data.GetString());
        Assert.DoesNotContain(logs.Received, m => m.Level < LoggingLevel.Warning);
    }

    // ------------------------------------------------------------------ (b) sampling, elicitation, roots

    /// <summary>Two sessions call a sampling tool at the same time: each upstream sampling request reaches the session whose call caused it, and its answer goes back to the server.</summary>
    [Fact]
    [Trait("Issue12", "4")]
    public async Task SamplingRequest_TwoConcurrentSessions_EachGoesToTheSessionWhoseCallCausedIt()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        await using var gateway = await GatewayHost.StartAsync(env);
        var asked = new ConcurrentDictionary<string, string>();
        await using var alice = await gateway.ConnectAsync(protocolVersion: Era, options: Sampler("alice", asked));
        await using var bob = await gateway.ConnectAsync(protocolVersion: Era, options: Sampler("bob", asked));

        var results = await Task.WhenAll(
            alice.CallToolAsync("io_ev__trigger-sampling-request", new Dictionary<string, object?> { ["prompt"] = "from-alice" }, cancellationToken: TestContext.Current.CancellationToken).AsTask(),
            bob.CallToolAsync("io_ev__trigger-sampling-request", new Dictionary<string, object?> { ["prompt"] = "from-bob" }, cancellationToken: TestContext.Current.CancellationToken).AsTask());

        Assert.Contains("answered by alice", Text(results[0]), StringComparison.Ordinal);
        Assert.Contains("answered by bob", Text(results[1]), StringComparison.Ordinal);
        Assert.Contains("from-alice", asked["alice"], StringComparison.Ordinal);
        Assert.Contains("from-bob", asked["bob"], StringComparison.Ordinal);
    }

    /// <summary>A sampling request of a server the hub reaches in the 2026-07-28 era (the conformance target, over its socket) reaches the calling session too.</summary>
    [Fact]
    [Trait("Issue12", "4")]
    public async Task SamplingRequest_From2026EraUpstream_IsAnsweredByTheCallingSession()
    {
        using var env = new TestEnvironment();
        await using var target = ChildProcess.Start("dotnet", [Servers.ConformanceServerDll], new Dictionary<string, string>
        {
            ["MMCP_REGISTRY_PATH"] = env.RegistryDirectory,
            ["MMCP_RUNTIME_DIR"] = env.RuntimeDirectory,
        });
        await target.WaitForLineAsync(l => l.Contains("Registered MCP server io.mmcp.conformance", StringComparison.Ordinal));
        await using var gateway = await GatewayHost.StartAsync(env);
        var asked = new ConcurrentDictionary<string, string>();
        await using var client = await gateway.ConnectAsync(protocolVersion: Era, options: Sampler("carol", asked));

        var result = await client.CallToolAsync("io_mmcp_conformance__test_sampling", new Dictionary<string, object?> { ["prompt"] = "what is 2+2" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("LLM response: answered by carol", Text(result));
        Assert.Equal("what is 2+2", asked["carol"]);
    }

    /// <summary>A session that did not declare sampling is not asked: the upstream gets a JSON-RPC error saying so (and the tool reports it).</summary>
    [Fact]
    [Trait("Issue12", "4")]
    public async Task SamplingRequest_CallerWithoutTheCapability_UpstreamGetsAClearError()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        await using var gateway = await GatewayHost.StartAsync(env);
        var asked = new ConcurrentDictionary<string, string>();
        await using var sampler = await gateway.ConnectAsync(protocolVersion: Era, options: Sampler("sampler", asked));
        await using var plain = await gateway.ConnectAsync(protocolVersion: Era);
        var errors = new ConcurrentQueue<string>();
        using var tap = gateway.Hub.ObserveTraffic(Everything, e =>
        {
            if (e.Message is JsonRpcError error)
            {
                errors.Enqueue(error.Error.Message);
            }
        });

        var result = await plain.CallToolAsync("io_ev__trigger-sampling-request", new Dictionary<string, object?> { ["prompt"] = "p" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.IsError);
        Assert.Contains("did not declare the 'sampling' capability", Text(result), StringComparison.Ordinal);
        Assert.Contains(errors, m => m.Contains("did not declare the 'sampling' capability", StringComparison.Ordinal));
        Assert.Empty(asked);
    }

    /// <summary>An elicitation request of an upstream reaches the calling session and the user's answer goes back to the server.</summary>
    [Fact]
    [Trait("Issue12", "4")]
    public async Task ElicitationRequest_DuringACall_IsAnsweredByTheCallingSession()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        await using var gateway = await GatewayHost.StartAsync(env);
        string? question = null;
        var options = new McpClientOptions
        {
            Capabilities = new ClientCapabilities { Elicitation = new ElicitationCapability() },
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (p, _) =>
                {
                    question = p?.Message;
                    return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement("Ada Lovelace") } });
                },
            },
        };
        await using var client = await gateway.ConnectAsync(protocolVersion: Era, options: options);

        var result = await client.CallToolAsync("io_ev__trigger-elicitation-request", cancellationToken: TestContext.Current.CancellationToken);

        Assert.NotNull(question);
        Assert.Contains("Ada Lovelace", Text(result), StringComparison.Ordinal);
    }

    /// <summary>A roots/list request of an upstream during a call is answered with the calling session's roots.</summary>
    [Fact]
    [Trait("Issue12", "4")]
    public async Task RootsRequest_DuringACall_IsAnsweredWithTheCallingSessionsRoots()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        await using var gateway = await GatewayHost.StartAsync(env);
        var options = new McpClientOptions
        {
            Capabilities = new ClientCapabilities { Roots = new RootsCapability() },
            Handlers = new McpClientHandlers
            {
                RootsHandler = (_, _) => ValueTask.FromResult(new ListRootsResult { Roots = [new Root { Uri = "file:///work/project-x", Name = "project-x" }] }),
            },
        };
        await using var client = await gateway.ConnectAsync(protocolVersion: Era, options: options);

        var result = await client.CallToolAsync("io_ev__get-roots-list", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains("file:///work/project-x", Text(result), StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ (c) completion

    /// <summary>completion/complete for a prefixed prompt name reaches its server under the server's own name.</summary>
    [Fact]
    [Trait("Issue12", "4")]
    public async Task Complete_PrefixedPromptName_IsRoutedToItsServer()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var client = await gateway.ConnectAsync(protocolVersion: Era);

        var result = await client.CompleteAsync(new PromptReference { Name = "io_ev__completable-prompt" }, "department", "Eng", cancellationToken: TestContext.Current.CancellationToken);

        Assert.NotNull(client.ServerCapabilities.Completions);
        Assert.Equal(["Engineering"], result.Completion.Values);
    }

    /// <summary>completion/complete for a resource template reaches the server that lists the template.</summary>
    [Fact]
    [Trait("Issue12", "4")]
    public async Task Complete_ResourceTemplate_IsRoutedToTheServerThatListsIt()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var client = await gateway.ConnectAsync(protocolVersion: Era);

        var result = await client.CompleteAsync(new ResourceTemplateReference { Uri = "demo://resource/dynamic/text/{resourceId}" }, "resourceId", "7", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(["7"], result.Completion.Values);
    }

    /// <summary>A completion needs the scope of what it completes, on /mcp and /servers/{id}/mcp alike (regression: /mcp
    /// asked prompts:read even for a resource template, the pass-through asked nothing, and the docs said "a valid token").</summary>
    [Theory]
    [InlineData("/mcp", "io_ev__completable-prompt")]
    [InlineData("/servers/io.ev/mcp", "completable-prompt")]
    public async Task Complete_NeedsTheScopeOfWhatItCompletes(string path, string prompt)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.RequireToken = true);
        var ct = TestContext.Current.CancellationToken;
        var (_, resources) = await gateway.Tokens.CreateAsync("resources", [GatewayScopes.ResourcesRead], cancellationToken: ct);
        var (_, prompts) = await gateway.Tokens.CreateAsync("prompts", [GatewayScopes.PromptsRead], cancellationToken: ct);
        await using var resourceReader = await gateway.ConnectAsync(path, protocolVersion: Era, headers: new Dictionary<string, string> { ["Authorization"] = "Bearer " + resources });
        await using var promptReader = await gateway.ConnectAsync(path, protocolVersion: Era, headers: new Dictionary<string, string> { ["Authorization"] = "Bearer " + prompts });
        var template = new ResourceTemplateReference { Uri = "demo://resource/dynamic/text/{resourceId}" };

        var completed = await resourceReader.CompleteAsync(template, "resourceId", "7", cancellationToken: ct);
        var refusedPrompt = await Assert.ThrowsAsync<McpProtocolException>(() => resourceReader.CompleteAsync(new PromptReference { Name = prompt }, "department", "Eng", cancellationToken: ct).AsTask());
        var refusedTemplate = await Assert.ThrowsAsync<McpProtocolException>(() => promptReader.CompleteAsync(template, "resourceId", "7", cancellationToken: ct).AsTask());

        Assert.Equal(["7"], completed.Completion.Values);
        Assert.Contains("prompts:read", refusedPrompt.Message, StringComparison.Ordinal);
        Assert.Contains("resources:read", refusedTemplate.Message, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ (d) subscriptions

    /// <summary>resources/subscribe and unsubscribe reach the owning server, and its resources/updated reach the subscribed session only.</summary>
    [Fact]
    [Trait("Issue12", "4")]
    public async Task ResourceSubscription_PassesThrough_AndUpdatesReachTheSubscribedSession()
    {
        var ct = TestContext.Current.CancellationToken;
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        await using var gateway = await GatewayHost.StartAsync(env);
        var upstream = new ConcurrentQueue<string>();
        using var tap = gateway.Hub.ObserveTraffic(Everything, e =>
        {
            if (e.Message is JsonRpcRequest { Method: RequestMethods.ResourcesSubscribe or RequestMethods.ResourcesUnsubscribe } r)
            {
                upstream.Enqueue($"{r.Method} {r.Params?["uri"]}");
            }
        });
        var first = new Updates();
        var second = new Updates();
        await using var alice = await gateway.ConnectAsync(protocolVersion: Era, options: new McpClientOptions { Handlers = new McpClientHandlers { NotificationHandlers = [first.Handler] } });
        await using var bob = await gateway.ConnectAsync(protocolVersion: Era, options: new McpClientOptions { Handlers = new McpClientHandlers { NotificationHandlers = [second.Handler] } });
        var uris = (await alice.ListResourcesAsync(cancellationToken: ct)).Select(r => r.Uri).Where(u => u.StartsWith("demo://resource/static/", StringComparison.Ordinal)).Take(2).ToList();

        Assert.True(alice.ServerCapabilities.Resources?.Subscribe);
        await alice.SubscribeToResourceAsync(uris[0], cancellationToken: ct);
        await bob.SubscribeToResourceAsync(uris[1], cancellationToken: ct);
        await alice.CallToolAsync("io_ev__toggle-subscriber-updates", cancellationToken: ct);
        var a = await first.WaitAsync(uris[0]);
        var b = await second.WaitAsync(uris[1]);
        await alice.UnsubscribeFromResourceAsync(uris[0], cancellationToken: ct);

        Assert.Equal(uris[0], a);
        Assert.Equal(uris[1], b);
        Assert.DoesNotContain(uris[1], first.Received);
        Assert.DoesNotContain(uris[0], second.Received);
        Assert.Contains($"resources/subscribe {uris[0]}", upstream);
        Assert.Contains($"resources/subscribe {uris[1]}", upstream);
        Assert.Contains($"resources/unsubscribe {uris[0]}", upstream);
    }

    /// <summary>
    /// A session subscribed to a resource, then the user denied the server: unsubscribing was refused (-32010, the URI
    /// resolved to a denied server), so the session could not end its own subscription. It ends it now, and the
    /// upstream subscription with it; a URI the session never subscribed to changes nothing.
    /// </summary>
    [Fact]
    [Trait("Leftovers", "consent")]
    public async Task Unsubscribe_AfterTheServerWasDenied_EndsTheSubscription()
    {
        var ct = TestContext.Current.CancellationToken;
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        await using var gateway = await GatewayHost.StartAsync(env);
        var upstream = new ConcurrentQueue<string>();
        using var tap = gateway.Hub.ObserveTraffic(Everything, e =>
        {
            if (e.Message is JsonRpcRequest { Method: RequestMethods.ResourcesUnsubscribe } r)
            {
                upstream.Enqueue(r.Params?["uri"]?.GetValue<string>() ?? string.Empty);
            }
        });
        await using var client = await gateway.ConnectAsync(protocolVersion: Era);
        var uri = (await client.ListResourcesAsync(cancellationToken: ct)).Select(r => r.Uri).First(u => u.StartsWith("demo://resource/static/", StringComparison.Ordinal));
        await client.SubscribeToResourceAsync(uri, cancellationToken: ct);

        await new Mmcp.Client.Consent.ConsentStore(env.ConsentPath).SetServerAsync(Everything, Mmcp.Client.Consent.ConsentDecision.Deny, ct);
        var subscribeAgain = await Assert.ThrowsAsync<McpProtocolException>(() => client.SubscribeToResourceAsync(uri, cancellationToken: ct));
        await client.UnsubscribeFromResourceAsync(uri, cancellationToken: ct);
        await client.UnsubscribeFromResourceAsync("demo://never/subscribed", cancellationToken: ct);

        Assert.Contains("denied", subscribeAgain.Message, StringComparison.Ordinal);
        Assert.Equal([uri], upstream);
    }

    /// <summary>
    /// "Deny hides a server" for what a server sends on its own: a log message of a server the user denied reaches no
    /// client, while an allowed server's still does. The denied server logs when its held call is cancelled, after the
    /// deny; the hub routes a message before the traffic tap sees it, and an allowed server's log sent after that
    /// reaches the client after anything routed before it.
    /// </summary>
    [Fact]
    [Trait("Leftovers", "consent")]
    public async Task DeniedServer_ItsLogMessages_ReachNoClient()
    {
        var ct = TestContext.Current.CancellationToken;
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await env.WriteManifestAsync(Servers.TestServer("io.test.beta"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var logs = new LogSink();
        await using var client = await gateway.ConnectAsync(protocolVersion: Era, options: new McpClientOptions { Handlers = new McpClientHandlers { NotificationHandlers = [logs.Handler] } });
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var logged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var tap = gateway.Hub.ObserveTraffic("io.test.alpha", e =>
        {
            if (e.Message is JsonRpcNotification { Method: NotificationMethods.LoggingMessageNotification } n)
            {
                (n.Params?["data"]?.GetValue<string>() == "holding" ? holding : logged).TrySetResult();
            }
        });
        // The client's GET stream, where the gateway pushes what servers send on their own, opens after the session
        // (the gateway holds what comes before, see GetStreamBacklogTests). Allowed log messages until one arrives, so
        // the way a log message takes to this client is known to work.
        for (var i = 0; !logs.Received.Any(m => m.Data.ToString().StartsWith("probe", StringComparison.Ordinal)); i++)
        {
            await client.CallToolAsync("io_test_beta__log", new Dictionary<string, object?> { ["levels"] = new[] { "error" }, ["message"] = $"probe {i}" }, cancellationToken: ct);
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var held = client.CallToolAsync("io_test_alpha__log_when_cancelled", new Dictionary<string, object?> { ["message"] = "from a denied server" }, cancellationToken: cancel.Token).AsTask();
        await holding.Task.WaitAsync(TestTimeouts.Default, ct); // the call runs on the server: a cancellation finds it

        await new Mmcp.Client.Consent.ConsentStore(env.ConsentPath).SetServerAsync("io.test.alpha", Mmcp.Client.Consent.ConsentDecision.Deny, ct);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);
        await logged.Task.WaitAsync(TestTimeouts.Default, ct);
        await client.CallToolAsync("io_test_beta__log", new Dictionary<string, object?> { ["levels"] = new[] { "error" }, ["message"] = "from an allowed server" }, cancellationToken: ct);
        await logs.WaitAsync(m => m.Data.ToString().Contains("from an allowed server", StringComparison.Ordinal));

        Assert.DoesNotContain(logs.Received, m => m.Data.ToString().Contains("from a denied server", StringComparison.Ordinal));
    }

    /// <summary>
    /// server-everything asks roots/list as soon as it is initialized, when no client's call is in flight: the hub
    /// refuses (no client can be asked) and says so in its own log at Information, while the SDK logged the refusal
    /// again as a warning with a stack trace, at every start of the server. That one is Debug now.
    /// </summary>
    [Fact]
    [Trait("Issue15", "logs")]
    public async Task RootsRequest_WithNoCallInFlight_IsRefusedWithoutAWarning()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        var logs = new LogCapture(e => e.Message.Contains("'roots/list' request handler failed", StringComparison.Ordinal));
        await using var gateway = await GatewayHost.StartAsync(env, services: s => s.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug)).AddSingleton<ILoggerProvider>(logs));
        await using var client = await gateway.ConnectAsync(protocolVersion: Era);

        await client.CallToolAsync("io_ev__echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: TestContext.Current.CancellationToken);
        var failed = await logs.Matched;

        Assert.Equal(LogLevel.Debug, failed.Level);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Information && e.Message.StartsWith("Refused roots/list from io.ev", StringComparison.Ordinal));
    }

    // ------------------------------------------------------------------ helpers

    private static McpClientOptions Sampler(string who, ConcurrentDictionary<string, string> asked) => new()
    {
        Capabilities = new ClientCapabilities { Sampling = new SamplingCapability() },
        Handlers = new McpClientHandlers
        {
            SamplingHandler = (p, _, _) =>
            {
                asked[who] = string.Join(" ", p!.Messages.Select(m => (m.Content.FirstOrDefault() as TextContentBlock)?.Text));
                return ValueTask.FromResult(new CreateMessageResult { Role = Role.Assistant, Model = "test-model", Content = [new TextContentBlock { Text = $"answered by {who}" }] });
            },
        },
    };

    private static string Text(CallToolResult result) => string.Join("\n", result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private sealed class LogSink
    {
        private readonly ConcurrentQueue<LoggingMessageNotificationParams> _received = new();
        private readonly List<(Func<LoggingMessageNotificationParams, bool> Match, TaskCompletionSource<LoggingMessageNotificationParams> Done)> _waiters = [];
        private readonly Lock _gate = new();

        public IEnumerable<LoggingMessageNotificationParams> Received => _received;

        public KeyValuePair<string, Func<JsonRpcNotification, CancellationToken, ValueTask>> Handler => new(NotificationMethods.LoggingMessageNotification, (n, _) =>
        {
            var message = n.Params.Deserialize(McpJsonUtilities.GetTypeInfo<LoggingMessageNotificationParams>(McpJsonUtilities.DefaultOptions))!;
            lock (_gate)
            {
                _received.Enqueue(message);
                foreach (var (match, done) in _waiters.Where(w => w.Match(message)))
                {
                    done.TrySetResult(message);
                }
            }

            return ValueTask.CompletedTask;
        });

        public Task<LoggingMessageNotificationParams> WaitAsync(Func<LoggingMessageNotificationParams, bool> match)
        {
            var done = new TaskCompletionSource<LoggingMessageNotificationParams>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                if (_received.FirstOrDefault(match) is { } seen)
                {
                    return Task.FromResult(seen);
                }

                _waiters.Add((match, done));
            }

            return done.Task.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        }
    }

    private sealed class Updates
    {
        private readonly ConcurrentQueue<string> _received = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _waiters = new(StringComparer.Ordinal);

        public IEnumerable<string> Received => _received;

        public KeyValuePair<string, Func<JsonRpcNotification, CancellationToken, ValueTask>> Handler => new(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
        {
            var uri = n.Params?["uri"]?.GetValue<string>() ?? string.Empty;
            _received.Enqueue(uri);
            Waiter(uri).TrySetResult(uri);
            return ValueTask.CompletedTask;
        });

        public Task<string> WaitAsync(string uri) => Waiter(uri).Task.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);

        private TaskCompletionSource<string> Waiter(string uri) => _waiters.GetOrAdd(uri, static _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
