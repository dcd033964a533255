using System.IO.Pipelines;
using System.Text;

namespace Mmcp.Gateway.Hosting;

/// <summary>
/// The <see cref="JsonRpcFront"/> checks for <c>mmcp stdio</c>: reads standard input line by line, answers a line the
/// spec calls an error (-32700, -32602, a refused batch) on standard output itself, and passes the rest to the SDK's
/// stream transport through <see cref="Input"/>. <see cref="Output"/> writes whole lines only, so an answer from here
/// never lands inside one of the SDK's messages.
/// </summary>
internal sealed class StdioFront : IAsyncDisposable
{
    private readonly Stream _stdin;
    private readonly Pipe _pipe = new();
    private readonly LineStream _output;

    public StdioFront(Stream stdin, Stream stdout)
    {
        _stdin = stdin;
        _output = new LineStream(stdout);
        Input = _pipe.Reader.AsStream();
    }

    /// <summary>What the SDK reads: the lines that passed the checks.</summary>
    public Stream Input { get; }

    /// <summary>What the SDK writes to: standard output, one whole line at a time.</summary>
    public Stream Output => _output;

    /// <summary>Copies standard input to <see cref="Input"/> until it ends, answering refused lines.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(_stdin, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024, leaveOpen: true);
        try
        {
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                var bytes = Encoding.UTF8.GetBytes(line + "\n");
                if (JsonRpcFront.Check(bytes.AsMemory(0, bytes.Length - 1), out _) is { } refusal)
                {
                    await _output.WriteLineAsync(refusal, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                await _pipe.Writer.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Standard input or output went away: the SDK's session ends with the pipe.
        }
        finally
        {
            await _pipe.Writer.CompleteAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync() => await _pipe.Reader.CompleteAsync().ConfigureAwait(false);

    /// <summary>Standard output that holds what is written until a newline, then writes the whole line under a lock.</summary>
    private sealed class LineStream(Stream inner) : Stream
    {
        private readonly SemaphoreSlim _lock = new(1, 1);
        private readonly MemoryStream _pending = new();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public async Task WriteLineAsync(byte[] line, CancellationToken cancellationToken)
        {
            await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await inner.WriteAsync(line, cancellationToken).ConfigureAwait(false);
                await inner.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _lock.Release();
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            // The SDK serializes its own writes; only the hand-over of a finished line needs the lock.
            _pending.Write(buffer.Span);
            if (buffer.Span.IndexOf((byte)'\n') < 0)
            {
                return;
            }

            await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await inner.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), cancellationToken).ConfigureAwait(false);
                await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
                _pending.SetLength(0);
            }
            finally
            {
                _lock.Release();
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            _pending.Write(buffer, offset, count);
            if (Array.IndexOf(buffer, (byte)'\n', offset, count) < 0)
            {
                return;
            }

            _lock.Wait();
            try
            {
                inner.Write(_pending.GetBuffer(), 0, (int)_pending.Length);
                inner.Flush();
                _pending.SetLength(0);
            }
            finally
            {
                _lock.Release();
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _lock.Dispose();
                _pending.Dispose();
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
