using Shared.IO;

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
    public static PipeMessageStream ToPipe(Stream pipe) => new(pipe);

    /// <summary>
    /// Buffers a message and writes it to a pipe at its flush, in the flushing thread. .NET has no asynchronous I/O for
    /// anonymous pipes: an asynchronous write is a synchronous one queued to the thread pool, a hop per message that
    /// costs more than the write itself on a busy machine (about 0.15 ms of a tools/call measured on 2 cores, see
    /// docs/mmcp-gateway.md, "Latency").
    /// <para>
    /// A write to a pipe blocks when the pipe is full, and the flushing thread may be one that others wait on (in
    /// <c>mmcp serve</c>, the socket event thread). So a message is written on the spot only when it cannot fill the
    /// pipe: when what the server may not have read yet, with the message, stays within <see cref="UnreadBound"/> (far
    /// below any system's pipe buffer). The reader tells how far the server has read: a server that answers a request
    /// has read it and everything before it (<see cref="Consumed"/>). Anything else takes the asynchronous way, so a
    /// server that stops reading blocks a thread-pool thread, not the caller. The SDK's transport sends one message at
    /// a time, so no lock is needed here.
    /// </para>
    /// </summary>
    internal sealed class PipeMessageStream(Stream pipe) : ForwardWriteStream
    {
        /// <summary>The most a write on the spot may leave unread in the pipe (pipes hold 16 KiB on macOS, 64 KiB on Linux).</summary>
        public const int UnreadBound = 8 * 1024;

        private readonly MemoryStream _buffer = new(4096);
        private long _written; // bytes handed to the pipe
        private long _consumed; // bytes the server has surely read

        /// <summary>Gets where the message being buffered ends in the stream of bytes sent (its offset once written).</summary>
        public long End => _written + _buffer.Length;

        /// <summary>Gets how many flushes went the asynchronous way because the server had not read enough (for tests).</summary>
        public int WrittenThrough { get; private set; }

        /// <summary>Records that the server has read the bytes sent up to <paramref name="end"/> (it answered the message ending there).</summary>
        /// <param name="end">An <see cref="End"/> of a message the server answered.</param>
        public void Consumed(long end)
        {
            var seen = Volatile.Read(ref _consumed);
            while (end > seen)
            {
                var was = Interlocked.CompareExchange(ref _consumed, end, seen);
                if (was == seen)
                {
                    return;
                }

                seen = was;
            }
        }

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
                _written += _buffer.Length;
                Reset();
            }

            pipe.Flush();
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            if (_written - Volatile.Read(ref _consumed) + _buffer.Length > UnreadBound)
            {
                WrittenThrough++;
                return WriteThroughAsync(cancellationToken);
            }

            Flush();
            return Task.CompletedTask;
        }

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
            _written += _buffer.Length;
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
