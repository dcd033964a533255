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
