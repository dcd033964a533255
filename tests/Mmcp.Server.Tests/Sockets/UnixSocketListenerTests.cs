using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Core.Registry;
using Mmcp.Server.Sockets;
using ModelContextProtocol.Protocol;

namespace Mmcp.Server.Tests.Sockets;

public sealed class UnixSocketListenerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Start_ServesToolsResourcesAndPromptsOverTheSocket()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env);
        await host.StartAsync(Ct);
        var socketPath = TestServer.SocketPath(host);

        await using var connection = await TestServer.ConnectAsync(socketPath, Ct);
        var client = connection.Client;
        var tools = await client.ListToolsAsync(cancellationToken: Ct);
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["text"] = "hi" }, cancellationToken: Ct);
        var resource = await client.ReadResourceAsync("test://items/42", cancellationToken: Ct);
        var prompt = await client.GetPromptAsync("greet", new Dictionary<string, object?> { ["name"] = "Ada" }, cancellationToken: Ct);

        Assert.Equal(["echo", "hold", "wait"], tools.Select(t => t.Name).Order());
        Assert.Equal("echo: hi", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
        Assert.Equal("item 42", Assert.IsType<TextResourceContents>(Assert.Single(resource.Contents)).Text);
        Assert.Contains("Ada", Assert.IsType<TextContentBlock>(Assert.Single(prompt.Messages).Content).Text, StringComparison.Ordinal);
        Assert.Equal("com.example.test", client.ServerInfo!.Name);
        Assert.Equal("2.0.0", client.ServerInfo!.Version);
        Assert.Equal(Path.Combine(env.RuntimeDirectory, "com.example.test.sock"), socketPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socketPath));
        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(env.RuntimeDirectory));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task ManyConnections_ConcurrentCalls_AllAnsweredAndSessionsEndWithTheirClients()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env);
        await host.StartAsync(Ct);
        var listener = host.Services.GetRequiredService<UnixSocketListener>();

        var connections = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => TestServer.ConnectAsync(listener.SocketPath!, Ct)));
        var results = await Task.WhenAll(connections.SelectMany((c, i) => Enumerable.Range(0, 25).Select(async j =>
        {
            var result = await c.Client.CallToolAsync("echo", new Dictionary<string, object?> { ["text"] = $"{i}-{j}" }, cancellationToken: Ct);
            return (Expected: $"echo: {i}-{j}", Actual: ((TextContentBlock)result.Content[0]).Text);
        })));
        Assert.Equal(20, listener.ActiveSessions);
        foreach (var c in connections)
        {
            await c.DisposeAsync();
        }

        Assert.All(results, r => Assert.Equal(r.Expected, r.Actual));
        Assert.Equal(500, results.Length);
        await WaitUntil(() => listener.ActiveSessions == 0);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task RequestsOnOneConnection_RunConcurrently()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env);
        await host.StartAsync(Ct);
        await using var connection = await TestServer.ConnectAsync(TestServer.SocketPath(host), Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        // A call that would wait a minute does not hold up another call on the same connection.
        var slow = connection.Client.CallToolAsync("wait", new Dictionary<string, object?> { ["milliseconds"] = 60_000 }, cancellationToken: cts.Token).AsTask();
        var fast = await connection.Client.CallToolAsync("echo", new Dictionary<string, object?> { ["text"] = "quick" }, cancellationToken: Ct);
        await cts.CancelAsync();

        Assert.Equal("echo: quick", ((TextContentBlock)fast.Content[0]).Text);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task PeerOfAnotherUser_IsRefusedUsingTheKernelsPeerCredentials()
    {
        using var env = new TestEnvironment();
        // This process is the peer; claiming the server belongs to another uid makes the real SO_PEERCRED check fail.
        using var host = TestServer.Build(env, o => o.OwnerUserId = RegistryPaths.CurrentUserId() + 4242);
        await host.StartAsync(Ct);

        var ex = await Record.ExceptionAsync(() => TestServer.ConnectAsync(TestServer.SocketPath(host), Ct, TimeSpan.FromSeconds(5)));

        Assert.NotNull(ex);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task PeerOnTheAllowList_IsAccepted()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env, o =>
        {
            o.OwnerUserId = RegistryPaths.CurrentUserId() + 4242;
            o.AllowedPeerUserIds.Add(RegistryPaths.CurrentUserId());
        });
        await host.StartAsync(Ct);

        await using var connection = await TestServer.ConnectAsync(TestServer.SocketPath(host), Ct);

        Assert.NotEmpty(await connection.Client.ListToolsAsync(cancellationToken: Ct));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task ConnectionLimit_RefusesConnectionsBeyondIt()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env, o => o.MaxConnections = 2);
        await host.StartAsync(Ct);
        var path = TestServer.SocketPath(host);
        await using var a = await TestServer.ConnectAsync(path, Ct);
        await using var b = await TestServer.ConnectAsync(path, Ct);

        var ex = await Record.ExceptionAsync(() => TestServer.ConnectAsync(path, Ct, TimeSpan.FromSeconds(5)));

        Assert.NotNull(ex);
        Assert.NotEmpty(await a.Client.ListToolsAsync(cancellationToken: Ct));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Stop_RemovesTheSocketAndEndsLiveSessions()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env, o => o.ShutdownGracePeriod = TimeSpan.FromMilliseconds(200));
        await host.StartAsync(Ct);
        var path = TestServer.SocketPath(host);
        await using var connection = await TestServer.ConnectAsync(path, Ct);

        await host.StopAsync(Ct);

        Assert.False(File.Exists(path));
        var completion = await connection.Client.Completion.WaitAsync(TestTimeouts.Default, Ct);
        Assert.NotNull(completion);
    }

    [Fact]
    public async Task Stop_RequestInProgress_FinishesBeforeTheSessionEnds()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env);
        await host.StartAsync(Ct);
        await using var connection = await TestServer.ConnectAsync(TestServer.SocketPath(host), Ct);
        var inFlight = host.Services.GetRequiredService<InFlightRequests>();
        var call = connection.Client.CallToolAsync("wait", new Dictionary<string, object?> { ["milliseconds"] = 300 }, cancellationToken: Ct).AsTask();
        await WaitUntil(() => inFlight.Count == 1);

        await host.StopAsync(Ct);

        Assert.Equal("waited", ((TextContentBlock)(await call).Content[0]).Text);
    }

    [Fact]
    public async Task Stop_OpenSubscriptionsListen_DoesNotHoldShutdown()
    {
        using var env = new TestEnvironment();
        // A grace period far longer than the test timeout: if the open listen request counted as work in progress,
        // StopAsync would wait for it and the test would time out.
        using var host = TestServer.Build(env, o => o.ShutdownGracePeriod = TimeSpan.FromHours(1));
        await host.StartAsync(Ct);
        await using var connection = await TestServer.ConnectAsync(TestServer.SocketPath(host), Ct);
        var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var handler = connection.Client.RegisterNotificationHandler("notifications/subscriptions/acknowledged", (_, _) =>
        {
            acknowledged.TrySetResult();
            return ValueTask.CompletedTask;
        });
        using var listen = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var pending = connection.Client.SendRequestAsync<SubscriptionsListenRequestParams, EmptyResult>(
            RequestMethods.SubscriptionsListen,
            new SubscriptionsListenRequestParams { Notifications = new() { ToolsListChanged = true } },
            cancellationToken: listen.Token).AsTask();
        await acknowledged.Task.WaitAsync(TestTimeouts.Default, Ct);

        await host.StopAsync(Ct).WaitAsync(TestTimeouts.Default, Ct);

        await listen.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => pending);
    }

    [Fact]
    public async Task Start_StaleSocketFromACrash_IsReplaced()
    {
        using var env = new TestEnvironment();
        Directory.CreateDirectory(env.RuntimeDirectory);
        var path = Path.Combine(env.RuntimeDirectory, "com.example.test.sock");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(path)); // bound, never listening, file left behind
        }

        using var host = TestServer.Build(env);
        await host.StartAsync(Ct);
        await using var connection = await TestServer.ConnectAsync(path, Ct);

        Assert.NotEmpty(await connection.Client.ListToolsAsync(cancellationToken: Ct));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Start_AnotherLiveInstance_FailsWithAClearMessageAndLeavesItServing()
    {
        using var env = new TestEnvironment();
        using var first = TestServer.Build(env);
        await first.StartAsync(Ct);
        using var second = TestServer.Build(env, o => o.RegisterManifest = false);

        var ex = await Assert.ThrowsAsync<IOException>(() => second.StartAsync(Ct));

        Assert.Contains("already serving", ex.Message, StringComparison.Ordinal);
        await using var connection = await TestServer.ConnectAsync(TestServer.SocketPath(first), Ct);
        Assert.NotEmpty(await connection.Client.ListToolsAsync(cancellationToken: Ct));
        await first.StopAsync(Ct);
    }

    [Fact]
    public async Task Start_RegularFileAtTheSocketPath_IsNeverDeleted()
    {
        using var env = new TestEnvironment();
        Directory.CreateDirectory(env.RuntimeDirectory);
        var path = Path.Combine(env.RuntimeDirectory, "com.example.test.sock");
        await File.WriteAllTextAsync(path, "precious", Ct);
        using var host = TestServer.Build(env);

        var ex = await Assert.ThrowsAsync<IOException>(() => host.StartAsync(Ct));

        Assert.Contains("is not a socket", ex.Message, StringComparison.Ordinal);
        Assert.Equal("precious", await File.ReadAllTextAsync(path, Ct));
    }

    [Fact]
    public async Task Start_InvalidId_FailsAtStartupWithHowToFixIt()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env, o => o.Id = "NotReverseDns");

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains("[McpServer(", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_LongId_UsesAShortHashedSocketName()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env, o => o.Id = "com.example." + new string('x', 100));
        await host.StartAsync(Ct);

        var path = TestServer.SocketPath(host);

        Assert.Matches(@"/m-[0-9a-f]{12}\.sock$", path);
        await using var connection = await TestServer.ConnectAsync(path, Ct);
        Assert.NotEmpty(await connection.Client.ListToolsAsync(cancellationToken: Ct));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task ArgumentCutInsideACharacter_IsReadWithTheReplacement_NotRefused()
    {
        // A JavaScript client that cuts a string inside an emoji sends the half as an escape: valid JSON, no Unicode text.
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env);
        await host.StartAsync(Ct);
        using var socket = await ConnectRawAsync(host);
        await using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        await InitializeAsync(stream, reader);

        await SendAsync(stream, """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"cut \ud83d here"}}}""");
        var line = await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct);

        using var answer = System.Text.Json.JsonDocument.Parse(line!);
        var result = answer.RootElement.GetProperty("result");
        Assert.False(result.TryGetProperty("isError", out var isError) && isError.GetBoolean(), line);
        Assert.Equal("echo: cut \ufffd here", result.GetProperty("content")[0].GetProperty("text").GetString());
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task HalfClose_RequestsInFlight_AreAllAnsweredBeforeTheConnectionCloses()
    {
        // Regression: at the end of a connection's input (the client's shutdown(SHUT_WR)) the session ended at once, and
        // the answers of the requests still running were lost; a stdio server answers every request it read.
        var logs = new EventSignals();
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env, logs: logs);
        await host.StartAsync(Ct);
        var (gate, held) = Gate.New();
        using var socket = await ConnectRawAsync(host);
        await using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        await InitializeAsync(stream, reader);

        await SendAsync(stream, HoldCall(2, gate));
        await SendAsync(stream, """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a"}}}""");
        await SendAsync(stream, """{"jsonrpc":"2.0","id":"four","method":"tools/call","params":{"name":"echo","arguments":{"text":"b"}}}""");
        await held.Entered.Task.WaitAsync(TestTimeouts.Default, Ct);
        socket.Shutdown(SocketShutdown.Send);
        // The slow call is let go only once the server has seen the end of the input (unfixed, the SDK's session saw it at
        // once, and sent nothing after it).
        await Task.WhenAny(logs.Seen(InputEnded), logs.Seen(SdkInputEnded)).WaitAsync(TestTimeouts.Default, Ct);
        held.Opened.TrySetResult();
        var answers = await ReadToEndAsync(reader);

        Assert.Equal("held " + gate, ToolText(answers, "2"));
        Assert.Equal("echo: a", ToolText(answers, "3"));
        Assert.Equal("echo: b", ToolText(answers, "\"four\""));
        Assert.False(held.Cancelled.Task.IsCompleted);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task HalfClose_CancelledRequest_IsNotWaitedFor()
    {
        var logs = new EventSignals();
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env, logs: logs);
        await host.StartAsync(Ct);
        var (gate, held) = Gate.New();
        using var socket = await ConnectRawAsync(host);
        await using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        await InitializeAsync(stream, reader);

        await SendAsync(stream, HoldCall(2, gate));
        await held.Entered.Task.WaitAsync(TestTimeouts.Default, Ct);
        await SendAsync(stream, """{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}""");
        await SendAsync(stream, """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a"}}}""");
        socket.Shutdown(SocketShutdown.Send);
        var answers = await ReadToEndAsync(reader);

        Assert.Equal("echo: a", ToolText(answers, "3"));
        Assert.False(answers.ContainsKey("2"));
        await held.Cancelled.Task.WaitAsync(TestTimeouts.Default, Ct);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task FullClose_RequestInFlight_IsCancelledWithoutWaitingForIt()
    {
        var logs = new EventSignals();
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env, logs: logs);
        await host.StartAsync(Ct);
        var listener = host.Services.GetRequiredService<UnixSocketListener>();
        var (gate, held) = Gate.New();
        var socket = await ConnectRawAsync(host);
        await using (var stream = new NetworkStream(socket, ownsSocket: true))
        {
            using var reader = new StreamReader(stream);
            await InitializeAsync(stream, reader);
            await SendAsync(stream, HoldCall(2, gate));
            await held.Entered.Task.WaitAsync(TestTimeouts.Default, Ct);
        }

        // The client is gone both ways: nothing could be answered, so the call is cancelled (the gate never opens).
        await held.Cancelled.Task.WaitAsync(TestTimeouts.Default, Ct);
        await WaitUntil(() => listener.ActiveSessions == 0);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task HalfClose_ServerStopsWhileARequestRuns_EndsTheSessionAfterTheGracePeriod()
    {
        var logs = new EventSignals();
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env, o => o.ShutdownGracePeriod = TimeSpan.FromMilliseconds(100), logs);
        await host.StartAsync(Ct);
        var listener = host.Services.GetRequiredService<UnixSocketListener>();
        var (gate, held) = Gate.New();
        using var socket = await ConnectRawAsync(host);
        await using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        await InitializeAsync(stream, reader);
        await SendAsync(stream, HoldCall(2, gate));
        await held.Entered.Task.WaitAsync(TestTimeouts.Default, Ct);
        socket.Shutdown(SocketShutdown.Send);
        await logs.Seen(InputEnded).WaitAsync(TestTimeouts.Default, Ct);

        await host.StopAsync(Ct).WaitAsync(TestTimeouts.Default, Ct);

        await held.Cancelled.Task.WaitAsync(TestTimeouts.Default, Ct);
        await ReadToEndAsync(reader);
        Assert.Equal(0, listener.ActiveSessions);
    }

    /// <summary>The listener's "input ended, answering what is in flight first" event (2010).</summary>
    private const string InputEnded = "InputEnded";

    /// <summary>The SDK's stream transport saw the end of its input (what the listener held back until the answers were out).</summary>
    private const string SdkInputEnded = "LogTransportEndOfStream";

    private static async Task<Socket> ConnectRawAsync(Microsoft.Extensions.Hosting.IHost host)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(TestServer.SocketPath(host)), Ct);
        return socket;
    }

    private static async Task InitializeAsync(Stream stream, StreamReader reader)
    {
        await SendAsync(stream, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        Assert.Contains("\"id\":1", await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct), StringComparison.Ordinal);
        await SendAsync(stream, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
    }

    private static string HoldCall(int id, string gate) =>
        $$"""{"jsonrpc":"2.0","id":{{id}},"method":"tools/call","params":{"name":"hold","arguments":{"gate":"{{gate}}"}""" + "}}";

    private static async Task SendAsync(Stream stream, string line) =>
        await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(line + "\n"), Ct);

    /// <summary>Every answer read until the server closes the connection, by the raw JSON of its id.</summary>
    private static async Task<Dictionary<string, JsonElement>> ReadToEndAsync(StreamReader reader)
    {
        var answers = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        while (await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct) is { } line)
        {
            using var message = JsonDocument.Parse(line);
            if (message.RootElement.TryGetProperty("id", out var id) && !message.RootElement.TryGetProperty("method", out _))
            {
                answers[id.GetRawText()] = message.RootElement.Clone();
            }
        }

        return answers;
    }

    private static string? ToolText(Dictionary<string, JsonElement> answers, string id)
    {
        Assert.True(answers.TryGetValue(id, out var answer), $"no answer to {id}; answered: {string.Join(", ", answers.Keys)}");
        return answer.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString();
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Default);
        while (!condition())
        {
            await Task.Yield();
            await Task.Delay(10, timeout.Token);
        }
    }

    /// <summary>Signals the log events the test waits for, by event name (the listener's and the SDK's).</summary>
    private sealed class EventSignals : ILoggerProvider
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _seen = new(StringComparer.Ordinal);

        public Task Seen(string eventName) => Signal(eventName).Task;

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private TaskCompletionSource Signal(string eventName) => _seen.GetOrAdd(eventName, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        private sealed class Logger(EventSignals owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (eventId.Name is { } name)
                {
                    owner.Signal(name).TrySetResult();
                }
            }
        }
    }
}
