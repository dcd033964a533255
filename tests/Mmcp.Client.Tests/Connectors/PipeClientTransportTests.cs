using System.IO.Pipes;
using System.Text;
using Mmcp.Client.Connectors;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Tests.Connectors;

/// <summary>The hub's own stdio transport frames, parses and hands over what a server writes as the SDK's stream transport does.</summary>
public sealed class PipeClientTransportTests
{
    /// <summary>Messages split across reads, several in one read, CRLF endings and blank lines all arrive whole and in order.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Read_MessagesSplitAndJoinedAcrossWrites_ArriveWholeAndInOrder()
    {
        await using var server = new FakeServer();
        await using var session = await server.ConnectAsync();

        await server.WriteAsync("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/one\"}\n\n{\"jsonrpc\":\"2.0\",\"me");
        await server.WriteAsync("thod\":\"notifications/two\"}\r\n  \n{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n");

        Assert.Equal("notifications/one", Assert.IsType<JsonRpcNotification>(await ReadAsync(session)).Method);
        Assert.Equal("notifications/two", Assert.IsType<JsonRpcNotification>(await ReadAsync(session)).Method);
        Assert.Equal(new RequestId(7), Assert.IsType<JsonRpcResponse>(await ReadAsync(session)).Id);
    }

    /// <summary>A line that is not a JSON-RPC message is skipped, and the messages after it still arrive.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Read_LineThatIsNotJson_IsSkippedAndTheNextMessageArrives()
    {
        await using var server = new FakeServer();
        await using var session = await server.ConnectAsync();

        await server.WriteAsync("server starting...\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/after\"}\n");

        Assert.Equal("notifications/after", Assert.IsType<JsonRpcNotification>(await ReadAsync(session)).Method);
    }

    /// <summary>A message many times larger than the read buffer arrives whole, and so does a small one after it.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Read_MessageLargerThanTheBuffer_ArrivesWhole()
    {
        await using var server = new FakeServer();
        await using var session = await server.ConnectAsync();
        var big = new string('x', 300_000);

        var writing = server.WriteAsync($"{{\"jsonrpc\":\"2.0\",\"method\":\"notifications/big\",\"params\":{{\"text\":\"{big}\"}}}}\n{{\"jsonrpc\":\"2.0\",\"method\":\"notifications/small\"}}\n");

        var first = Assert.IsType<JsonRpcNotification>(await ReadAsync(session));
        Assert.Equal(big, first.Params!["text"]!.GetValue<string>());
        Assert.Equal("notifications/small", Assert.IsType<JsonRpcNotification>(await ReadAsync(session)).Method);
        await writing;
    }

    /// <summary>When the server's output closes (the process ended), the message reader completes, so the client sees the connection end.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Read_OutputClosed_CompletesTheReader()
    {
        await using var server = new FakeServer();
        await using var session = await server.ConnectAsync();

        await server.WriteAsync("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/last\"}\n");
        server.CloseOutput();

        Assert.Equal("notifications/last", Assert.IsType<JsonRpcNotification>(await ReadAsync(session)).Method);
        await session.MessageReader.Completion.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
    }

    /// <summary>A message to the server is one line: its JSON and a newline, written through before the send returns.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Send_Message_IsOneLineOnTheServersInput()
    {
        await using var server = new FakeServer();
        await using var session = await server.ConnectAsync();

        await session.SendMessageAsync(new JsonRpcRequest { Id = new RequestId(3), Method = "tools/list" }, TestContext.Current.CancellationToken);

        var line = await server.ReadLineAsync();
        Assert.Matches("^\\{.*\"tools/list\".*\\}$", line);
    }

    /// <summary>An answer carrying a waiting request's id completes that request with its line, and the client sees the messages around it, in order, but not the answer.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Request_AnswerWithItsId_CompletesTheRequestAndSkipsTheClient()
    {
        await using var server = new FakeServer();
        await using var session = await server.ConnectAsync();
        var pipe = Assert.IsType<PipeClientTransport.Session>(session);

        var call = pipe.RequestAsync(Request("mmcp-call-t1"), session.SendMessageAsync, Ct);
        Assert.Contains("\"mmcp-call-t1\"", await server.ReadLineAsync(), StringComparison.Ordinal);
        await server.WriteAsync("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/before\"}\n{\"result\":{\"content\":[]},\"jsonrpc\":\"2.0\",\"id\":\"mmcp-call-t1\"}\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/after\"}\n");

        Assert.Equal("{\"result\":{\"content\":[]},\"jsonrpc\":\"2.0\",\"id\":\"mmcp-call-t1\"}", Encoding.UTF8.GetString(await call.WaitAsync(TestTimeouts.Default, Ct)));
        Assert.Equal("notifications/before", Assert.IsType<JsonRpcNotification>(await ReadAsync(session)).Method);
        Assert.Equal("notifications/after", Assert.IsType<JsonRpcNotification>(await ReadAsync(session)).Method);
    }

    /// <summary>A request or notification from the server that carries a waiting request's id, and an answer to another id, go to the client; the waiting request still gets its own answer.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Request_ServerMessagesWithTheSameOrOtherIds_GoToTheClientNotTheRequest()
    {
        await using var server = new FakeServer();
        await using var session = await server.ConnectAsync();
        var pipe = Assert.IsType<PipeClientTransport.Session>(session);

        var call = pipe.RequestAsync(Request("mmcp-call-t2"), session.SendMessageAsync, Ct);
        await server.ReadLineAsync();
        await server.WriteAsync("{\"jsonrpc\":\"2.0\",\"id\":\"mmcp-call-t2\",\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n{\"jsonrpc\":\"2.0\",\"id\":\"mmcp-call-t9\",\"result\":{}}\n");

        Assert.Equal("ping", Assert.IsType<JsonRpcRequest>(await ReadAsync(session)).Method);
        Assert.Equal(new RequestId(1), Assert.IsType<JsonRpcResponse>(await ReadAsync(session)).Id);
        Assert.Equal(new RequestId("mmcp-call-t9"), Assert.IsType<JsonRpcResponse>(await ReadAsync(session)).Id);
        Assert.False(call.IsCompleted);

        await server.WriteAsync("{\"jsonrpc\":\"2.0\",\"id\":\"mmcp-call-t2\",\"error\":{\"code\":-32602,\"message\":\"bad\"}}\n");
        Assert.Contains("-32602", Encoding.UTF8.GetString(await call.WaitAsync(TestTimeouts.Default, Ct)), StringComparison.Ordinal);
    }

    /// <summary>When the server's output ends while a request waits, it fails as the SDK client fails its pending requests, and so does a request sent afterwards.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Request_OutputClosedWhileWaiting_FailsWithTheSdksError()
    {
        await using var server = new FakeServer();
        await using var session = await server.ConnectAsync();
        var pipe = Assert.IsType<PipeClientTransport.Session>(session);

        var call = pipe.RequestAsync(Request("mmcp-call-t3"), session.SendMessageAsync, Ct);
        await server.ReadLineAsync();
        server.CloseOutput();

        var error = await Assert.ThrowsAsync<IOException>(() => call.WaitAsync(TestTimeouts.Default, Ct));
        Assert.Equal("The server shut down unexpectedly.", error.Message);
        await session.MessageReader.Completion.WaitAsync(TestTimeouts.Default, Ct);
        await Assert.ThrowsAsync<IOException>(() => pipe.RequestAsync(Request("mmcp-call-t4"), session.SendMessageAsync, Ct).WaitAsync(TestTimeouts.Default, Ct));
    }

    /// <summary>A cancelled request stops waiting at once, and its late answer goes to the client (which ignores an answer it did not ask for).</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Request_Cancelled_StopsWaitingAndTheLateAnswerGoesToTheClient()
    {
        await using var server = new FakeServer();
        await using var session = await server.ConnectAsync();
        var pipe = Assert.IsType<PipeClientTransport.Session>(session);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var call = pipe.RequestAsync(Request("mmcp-call-t5"), session.SendMessageAsync, cancel.Token);
        await server.ReadLineAsync();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TestTimeouts.Default, Ct));

        await server.WriteAsync("{\"jsonrpc\":\"2.0\",\"id\":\"mmcp-call-t5\",\"result\":{}}\n");
        Assert.Equal(new RequestId("mmcp-call-t5"), Assert.IsType<JsonRpcResponse>(await ReadAsync(session)).Id);
    }

    /// <summary>An answer many times larger than the read buffer completes its request whole.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Request_AnswerLargerThanTheBuffer_ArrivesWhole()
    {
        await using var server = new FakeServer();
        await using var session = await server.ConnectAsync();
        var pipe = Assert.IsType<PipeClientTransport.Session>(session);
        var big = new string('y', 300_000);

        var call = pipe.RequestAsync(Request("mmcp-call-t6"), session.SendMessageAsync, Ct);
        await server.ReadLineAsync();
        var answer = $"{{\"jsonrpc\":\"2.0\",\"id\":\"mmcp-call-t6\",\"result\":{{\"content\":[{{\"type\":\"text\",\"text\":\"{big}\"}}]}}}}";
        var writing = server.WriteAsync(answer + "\n");

        Assert.Equal(answer, Encoding.UTF8.GetString(await call.WaitAsync(TestTimeouts.Default, Ct)));
        await writing;
    }

    /// <summary>The observer sees every message in the order read, answers included while it asks for them, before the client or the request does.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Observer_MessagesAndAnswers_SeenInOrder()
    {
        await using var server = new FakeServer();
        await using var session = await server.ConnectAsync();
        var pipe = Assert.IsType<PipeClientTransport.Session>(session);
        var observer = new Observer();
        pipe.Observer = observer;

        var call = pipe.RequestAsync(Request("mmcp-call-t7"), session.SendMessageAsync, Ct);
        await server.ReadLineAsync();
        await server.WriteAsync("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"p\",\"progress\":1}}\n{\"jsonrpc\":\"2.0\",\"id\":\"mmcp-call-t7\",\"result\":{}}\n");

        await call.WaitAsync(TestTimeouts.Default, Ct);
        Assert.Equal(["notifications/progress", "answer mmcp-call-t7"], observer.Seen);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonRpcRequest Request(string id) => new() { Id = new RequestId(id), Method = "tools/call", Params = new System.Text.Json.Nodes.JsonObject { ["name"] = "echo" } };

    private sealed class Observer : PipeClientTransport.IObserver
    {
        public List<string> Seen { get; } = [];

        public bool ObservesAnswers => true;

        public void Received(JsonRpcMessage message)
        {
            lock (Seen)
            {
                Seen.Add(message switch
                {
                    JsonRpcNotification n => n.Method,
                    JsonRpcResponse r => $"answer {r.Id}",
                    _ => message.GetType().Name,
                });
            }
        }
    }

    private static async Task<JsonRpcMessage> ReadAsync(ITransport session)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeouts.Default);
        return await session.MessageReader.ReadAsync(timeout.Token);
    }

    /// <summary>The server's side of two real anonymous pipes: what it writes is the transport's input, and it reads what the transport sends.</summary>
    private sealed class FakeServer : IAsyncDisposable
    {
        private readonly AnonymousPipeServerStream _toHub = new(PipeDirection.Out);
        private readonly AnonymousPipeClientStream _hubReads;
        private readonly AnonymousPipeServerStream _fromHub = new(PipeDirection.In);
        private readonly AnonymousPipeClientStream _hubWrites;
        private readonly StreamReader _lines;

        public FakeServer()
        {
            _hubReads = new AnonymousPipeClientStream(PipeDirection.In, _toHub.ClientSafePipeHandle);
            _hubWrites = new AnonymousPipeClientStream(PipeDirection.Out, _fromHub.ClientSafePipeHandle);
            _lines = new StreamReader(_fromHub, Encoding.UTF8);
        }

        public Task<ITransport> ConnectAsync() =>
            new PipeClientTransport(MessageWrites.ToPipe(_hubWrites), _hubReads, "test").ConnectAsync(TestContext.Current.CancellationToken);

        public async Task WriteAsync(string text)
        {
            await _toHub.WriteAsync(Encoding.UTF8.GetBytes(text), TestContext.Current.CancellationToken);
            await _toHub.FlushAsync(TestContext.Current.CancellationToken);
        }

        public async Task<string?> ReadLineAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TestTimeouts.Default);
            return await _lines.ReadLineAsync(timeout.Token);
        }

        public void CloseOutput() => _toHub.Dispose();

        public async ValueTask DisposeAsync()
        {
            await _toHub.DisposeAsync();
            await _hubReads.DisposeAsync();
            await _hubWrites.DisposeAsync();
            _lines.Dispose();
        }
    }
}
