using System.IO.Pipes;
using System.Text;
using Mmcp.Client.Connectors;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Tests.Connectors;

/// <summary>Each message the hub sends a server reaches the pipe or socket in one write, newline included.</summary>
public sealed class MessageWritesTests
{
    [Fact]
    public async Task EachMessage_IsOneWrite_EndingInItsNewline()
    {
        var server = new RecordingStream();
        var transport = new StreamClientTransport(MessageWrites.Coalesce(server), new MemoryStream());
        await using var session = await transport.ConnectAsync(TestContext.Current.CancellationToken);

        await session.SendMessageAsync(new JsonRpcNotification { Method = "notifications/one" }, TestContext.Current.CancellationToken);
        await session.SendMessageAsync(new JsonRpcNotification { Method = "notifications/two" }, TestContext.Current.CancellationToken);

        Assert.Collection(
            server.Writes,
            w => Assert.Matches("^\\{.*notifications/one.*\\}\n$", w),
            w => Assert.Matches("^\\{.*notifications/two.*\\}\n$", w));
    }

    [Fact]
    public async Task MessageLargerThanTheBuffer_ArrivesWhole()
    {
        var server = new RecordingStream();
        var transport = new StreamClientTransport(MessageWrites.Coalesce(server), new MemoryStream());
        await using var session = await transport.ConnectAsync(TestContext.Current.CancellationToken);
        var big = new string('x', MessageWrites.BufferSize * 2);

        await session.SendMessageAsync(new JsonRpcNotification { Method = "notifications/big", Params = new System.Text.Json.Nodes.JsonObject { ["text"] = big } }, TestContext.Current.CancellationToken);

        var all = string.Concat(server.Writes);
        Assert.Contains(big, all, StringComparison.Ordinal);
        Assert.EndsWith("}\n", all, StringComparison.Ordinal);
        Assert.Single(all.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>A message to a child's standard input is written by the sending thread, in one write, not queued to the thread pool.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task ToPipe_SmallMessage_IsWrittenInOneWriteBeforeTheSendReturns()
    {
        var pipe = new RecordingStream { AsyncWritesNeverComplete = true };
        var transport = new StreamClientTransport(MessageWrites.ToPipe(pipe), new MemoryStream());
        await using var session = await transport.ConnectAsync(TestContext.Current.CancellationToken);

        var send = session.SendMessageAsync(new JsonRpcNotification { Method = "notifications/one" }, TestContext.Current.CancellationToken);

        Assert.True(send.IsCompletedSuccessfully, "the send waited for an asynchronous pipe write");
        Assert.Equal(0, pipe.AsyncWriteCalls);
        Assert.Matches("^\\{.*notifications/one.*\\}\n$", Assert.Single(pipe.Writes));
    }

    /// <summary>A message larger than the buffer still reaches a child's standard input whole, in the asynchronous way.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task ToPipe_MessageLargerThanTheBuffer_ArrivesWhole()
    {
        var pipe = new RecordingStream();
        var transport = new StreamClientTransport(MessageWrites.ToPipe(pipe), new MemoryStream());
        await using var session = await transport.ConnectAsync(TestContext.Current.CancellationToken);
        var big = new string('x', MessageWrites.BufferSize * 2);

        await session.SendMessageAsync(new JsonRpcNotification { Method = "notifications/big", Params = new System.Text.Json.Nodes.JsonObject { ["text"] = big } }, TestContext.Current.CancellationToken);
        await session.SendMessageAsync(new JsonRpcNotification { Method = "notifications/after" }, TestContext.Current.CancellationToken);

        var all = string.Concat(pipe.Writes);
        Assert.Contains(big, all, StringComparison.Ordinal);
        Assert.Equal(2, all.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("notifications/after", all.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1], StringComparison.Ordinal);
        Assert.EndsWith("}\n", all, StringComparison.Ordinal);
    }

    /// <summary>
    /// A server that stops reading its standard input (stopped, or busy) fills the pipe, and a write to a full pipe
    /// blocks. No sender may block on it: in <c>mmcp serve</c> the sender can be the thread every socket waits on. Past
    /// <see cref="MessageWrites.PipeMessageStream.UnreadBound"/> of bytes the server has not shown it read, a message
    /// goes the asynchronous way, so the send is pending instead of the thread stuck, and nothing is lost or reordered.
    /// </summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task ToPipe_AServerThatStopsReading_BlocksNoSender_AndEveryMessageArrivesInOrder()
    {
        using var toServer = new AnonymousPipeServerStream(PipeDirection.Out);
        using var serverInput = new AnonymousPipeClientStream(PipeDirection.In, toServer.ClientSafePipeHandle);
        var pipe = MessageWrites.ToPipe(toServer);
        await using var session = await new PipeClientTransport(pipe, new MemoryStream(), "stopped").ConnectAsync(TestContext.Current.CancellationToken);
        var text = new string('x', 1024);
        const int Count = 200; // 200 KiB: three times what a Linux pipe holds

        // Sent from one thread without waiting for each send, as many callers' requests reach one server.
        var sends = await Task.Run(
            () => Enumerable.Range(0, Count).Select(i => session.SendMessageAsync(new JsonRpcNotification { Method = $"notifications/n{i}", Params = new System.Text.Json.Nodes.JsonObject { ["text"] = text } }, TestContext.Current.CancellationToken)).ToList(),
            TestContext.Current.CancellationToken).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);

        Assert.Contains(sends, s => !s.IsCompleted); // the pipe is full: the rest wait, no thread does
        Assert.True(pipe.WrittenThrough > 0);
        using var lines = new StreamReader(serverInput);
        for (var i = 0; i < Count; i++)
        {
            var line = await lines.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
            Assert.Contains($"\"notifications/n{i}\"", line, StringComparison.Ordinal);
        }

        await Task.WhenAll(sends).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
    }

    /// <summary>Once the server shows it read what was sent (it answered the last request), small messages are written on the spot again.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task ToPipe_AfterTheServerReadWhatWasSent_WritesOnTheSpotAgain()
    {
        var recording = new RecordingStream { AsyncWritesNeverComplete = true };
        var pipe = MessageWrites.ToPipe(recording);
        var message = Encoding.UTF8.GetBytes(new string('x', 1000) + "\n");
        for (var i = 0; i * message.Length < MessageWrites.PipeMessageStream.UnreadBound - message.Length; i++)
        {
            pipe.Write(message);
            Assert.True(pipe.FlushAsync(TestContext.Current.CancellationToken).IsCompletedSuccessfully);
        }

        pipe.Write(message);
        var beyond = pipe.End;
        var through = pipe.FlushAsync(TestContext.Current.CancellationToken);
        Assert.False(through.IsCompleted); // beyond the bound with nothing known read: the asynchronous way
        Assert.Equal(1, pipe.WrittenThrough);

        pipe.Consumed(beyond);
        recording.AsyncWritesNeverComplete = false;
        recording.CompletePendingWrites();
        await through.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        pipe.Write(message);

        Assert.True(pipe.FlushAsync(TestContext.Current.CancellationToken).IsCompletedSuccessfully);
        Assert.Equal(1, pipe.WrittenThrough);
    }

    /// <summary>A write-only stream that records each write call as the text it carried.</summary>
    private sealed class RecordingStream : Stream
    {
        private readonly List<string> _writes = [];
        private readonly List<TaskCompletionSource> _pending = [];
        private int _asyncWriteCalls;

        public IReadOnlyList<string> Writes
        {
            get
            {
                lock (_writes)
                {
                    return [.. _writes];
                }
            }
        }

        /// <summary>Gets or sets a value indicating whether asynchronous writes hang, as a pipe write queued behind a busy thread pool would.</summary>
        public bool AsyncWritesNeverComplete { get; set; }

        /// <summary>Gets how many writes came through the asynchronous methods.</summary>
        public int AsyncWriteCalls => Volatile.Read(ref _asyncWriteCalls);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Record(buffer.AsSpan(offset, count));

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _asyncWriteCalls);
            Record(buffer.Span);
            return AsyncWritesNeverComplete ? new ValueTask(Pending()) : ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _asyncWriteCalls);
            Record(buffer.AsSpan(offset, count));
            return AsyncWritesNeverComplete ? Pending() : Task.CompletedTask;
        }

        /// <summary>Completes the asynchronous writes left pending so far.</summary>
        public void CompletePendingWrites()
        {
            lock (_pending)
            {
                _pending.ForEach(p => p.TrySetResult());
                _pending.Clear();
            }
        }

        private Task Pending()
        {
            var pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_pending)
            {
                _pending.Add(pending);
            }

            return pending.Task;
        }

        private void Record(ReadOnlySpan<byte> bytes)
        {
            lock (_writes)
            {
                _writes.Add(Encoding.UTF8.GetString(bytes));
            }
        }
    }
}
