namespace Mmcp.Client.Connectors;

/// <summary>
/// The SDK's stream transport writes each message as two writes (the JSON, then the newline) and then flushes. On an
/// unbuffered pipe or socket that is two system calls, and the server often wakes for the first half and again for the
/// newline. A buffer in between makes each message one write, at its flush.
/// </summary>
internal static class MessageWrites
{
    /// <summary>Messages up to this size leave in one write; larger ones are written through.</summary>
    public const int BufferSize = 64 * 1024;

    /// <summary>Wraps the stream the transport writes messages to.</summary>
    /// <param name="input">The server's input (a socket).</param>
    /// <returns>A buffered stream that writes to <paramref name="input"/> when flushed.</returns>
    public static Stream Coalesce(Stream input) => new BufferedStream(input, BufferSize);

    /// <summary>Wraps a child process's standard input: one write per message, made by the flushing thread.</summary>
    /// <param name="pipe">The child's standard input.</param>
    /// <returns>A buffered stream that writes to <paramref name="pipe"/> when flushed.</returns>
    public static Stream ToPipe(Stream pipe) => new PipeMessageStream(pipe);

    /// <summary>
    /// Buffers a message and writes it to a pipe at its flush, in the flushing thread. .NET has no asynchronous I/O for
    /// anonymous pipes: an asynchronous write is a synchronous one queued to the thread pool, a hop per message that
    /// costs more than the write itself on a busy machine (about 0.15 ms of a tools/call measured on 2 cores, see
    /// docs/mmcp-gateway.md, "Latency"). A message that fits the pipe's buffer (64 KiB on Linux) is a write that
    /// returns at once; a larger one still goes the asynchronous way, so a server that reads slowly blocks no thread
    /// on it. The SDK's transport sends one message at a time, so no lock is needed here.
    /// </summary>
    private sealed class PipeMessageStream(Stream pipe) : Stream
    {
        private readonly MemoryStream _buffer = new(4096);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => _buffer.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => _buffer.Write(buffer);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            _buffer.Write(buffer, offset, count);
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _buffer.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
            if (_buffer.Length > 0)
            {
                pipe.Write(_buffer.GetBuffer(), 0, (int)_buffer.Length);
                Reset();
            }

            pipe.Flush();
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            if (_buffer.Length > BufferSize)
            {
                return WriteThroughAsync(cancellationToken);
            }

            Flush();
            return Task.CompletedTask;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                pipe.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await pipe.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        private async Task WriteThroughAsync(CancellationToken cancellationToken)
        {
            await pipe.WriteAsync(_buffer.GetBuffer().AsMemory(0, (int)_buffer.Length), cancellationToken).ConfigureAwait(false);
            Reset();
            await pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        private void Reset()
        {
            _buffer.SetLength(0);
            if (_buffer.Capacity > BufferSize)
            {
                _buffer.Capacity = 4096; // a large message's buffer is not kept for the connection's life
            }
        }
    }
}
