using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Shared.IO;
using Shared.Json;

namespace Mmcp.Gateway.Fronts;

/// <summary>
/// The <see cref="JsonRpcFront"/> checks for <c>mmcp stdio</c>: reads standard input line by line, in its UTF-8
/// bytes, answers a line the spec calls an error (-32700, -32602, a refused batch) on standard output itself, and
/// passes the rest, as it came, to the SDK's stream transport through <see cref="Input"/>. <see cref="Output"/> writes whole lines only, so an answer from here
/// never lands inside one of the SDK's messages. At the end of standard input the SDK's input ends only once every
/// request already read is answered (<see cref="UnansweredRequests"/>), as a stdio server answers every request it read
/// before it exits.
/// </summary>
internal sealed class StdioFront : IAsyncDisposable
{
    private readonly Stream _stdin;
    private readonly Pipe _pipe = new();
    private readonly LineStream _output;
    private readonly UnansweredRequests _unanswered = new();
    private volatile bool _clientInitialized;

    public StdioFront(Stream stdin, Stream stdout)
    {
        _stdin = stdin;
        _output = new LineStream(stdout, _unanswered);
        Input = _pipe.Reader.AsStream();
    }

    /// <summary>What the SDK reads: the lines that passed the checks.</summary>
    public Stream Input { get; }

    /// <summary>What the SDK writes to: standard output, one whole line at a time.</summary>
    public Stream Output => _output;

    /// <summary>
    /// Whether the client sent <c>notifications/initialized</c>: until then the lifecycle leaves it nothing to be told
    /// on the server's own (it lists what it needs once initialized).
    /// </summary>
    public bool ClientInitialized => _clientInitialized;

    /// <summary>
    /// Copies standard input to <see cref="Input"/> until it ends, answering refused lines; then waits until every
    /// request read is answered before ending <see cref="Input"/> (cancelling stops the wait: the host is stopping).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Lines are found and checked in the bytes as they arrive, and the same bytes go on to the SDK: no decoding
        // into a string and encoding back per message.
        var reader = PipeReader.Create(_stdin, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = read.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } newline)
                {
                    await ForwardAsync(buffer.Slice(0, newline), cancellationToken).ConfigureAwait(false);
                    buffer = buffer.Slice(buffer.GetPosition(1, newline));
                }

                if (read.IsCompleted)
                {
                    await ForwardAsync(buffer, cancellationToken).ConfigureAwait(false); // a last line without its newline
                    break;
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }

            // The SDK's session ends with its input, and its transport sends nothing after that: the client's requests
            // are answered first, as the reference servers do when their input ends.
            await _unanswered.DrainAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Standard input or output went away: the SDK's session ends with the pipe.
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            await _pipe.Writer.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Answers one line the spec calls an error, or passes it on to the SDK with its newline.</summary>
    private async ValueTask ForwardAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> bytes = line.IsSingleSegment ? line.First : line.ToArray();
        bytes = LoneSurrogates.Replaced(Trim(bytes));
        if (bytes.IsEmpty)
        {
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException)
        {
            await _output.WriteLineAsync(JsonRpcFront.ParseErrorAnswer(), cancellationToken).ConfigureAwait(false);
            return;
        }

        bool initialized;
        using (document)
        {
            var root = document.RootElement;
            if (JsonRpcFront.Check(root, hasLoggingSetLevel: true, out _) is { } refusal)
            {
                await _output.WriteLineAsync(refusal, cancellationToken).ConfigureAwait(false);
                return;
            }

            initialized = !_clientInitialized && IsInitialized(root);
            _unanswered.Read(root); // before the SDK can answer it
        }

        _pipe.Writer.Write(bytes.Span);
        _pipe.Writer.Write("\n"u8);
        await _pipe.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (initialized)
        {
            _clientInitialized = true;
        }
    }

    /// <summary>Whether a message is the <c>notifications/initialized</c> notification.</summary>
    private static bool IsInitialized(JsonElement message) =>
        message.ValueKind == JsonValueKind.Object
        && message.TryGetProperty("method", out var method) && method.ValueEquals("notifications/initialized"u8)
        && !message.TryGetProperty("id", out _);

    /// <summary>The line without the whitespace around it (a CRLF's carriage return included).</summary>
    private static ReadOnlyMemory<byte> Trim(ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        var start = 0;
        var end = span.Length;
        while (start < end && IsSpace(span[start]))
        {
            start++;
        }

        while (end > start && IsSpace(span[end - 1]))
        {
            end--;
        }

        return bytes[start..end];

        static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r';
    }

    public async ValueTask DisposeAsync() => await _pipe.Reader.CompleteAsync().ConfigureAwait(false);

    /// <summary>Standard output that holds what is written until a newline, then writes the whole line under a lock.</summary>
    private sealed class LineStream(Stream inner, UnansweredRequests unanswered) : ForwardWriteStream
    {
        private readonly SemaphoreSlim _lock = new(1, 1);
        private readonly MemoryStream _pending = new();

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
                unanswered.WrittenLines(_pending.GetBuffer().AsSpan(0, (int)_pending.Length));
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                unanswered.Abandon(); // the client is gone: nothing more reaches it
                throw;
            }
            finally
            {
                _pending.SetLength(0);
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
                unanswered.WrittenLines(_pending.GetBuffer().AsSpan(0, (int)_pending.Length));
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                unanswered.Abandon();
                throw;
            }
            finally
            {
                _pending.SetLength(0);
                _lock.Release();
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

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
