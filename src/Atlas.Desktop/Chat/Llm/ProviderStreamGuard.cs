using System.ClientModel.Primitives;
using Atlas.Client.Protocol;
using Shared.IO;
using Shared.Json;

namespace Atlas.Desktop.Chat.Llm;

/// <summary>Pipeline policy that puts a <see cref="ProviderStreamGuard"/> in front of every streamed response body.</summary>
/// <remarks>
/// Why a policy and not the SDK's parser alone (verified against the fake OpenRouter server): the OpenAI SDK 2.15 parser
/// skips <c>:</c> comment lines correctly, but it throws <see cref="ArgumentOutOfRangeException"/> ("Unknown
/// ChatFinishReason value") on OpenRouter's in-band error chunk (<c>finish_reason: "error"</c>), losing the provider's
/// message; it ends silently when a stream stops without a finish reason (a truncated answer would look complete); and
/// it drops <c>usage.cost</c>. The guard sees each complete SSE event before the SDK does, turns error chunks and
/// truncation into <see cref="ProviderException"/>s with stable codes, and records usage and cost. It runs before the
/// transport, so once per try; retries (before the first byte only) are the retry policy's business.
/// </remarks>
internal sealed class ProviderStreamPolicy : PipelinePolicy
{
    private readonly ProviderObserver _observer;

    public ProviderStreamPolicy(ProviderObserver observer)
    {
        _observer = observer;
    }

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        _observer.OnRequest();
        ProcessNext(message, pipeline, currentIndex);
        Wrap(message);
    }

    public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        _observer.OnRequest();
        await ProcessNextAsync(message, pipeline, currentIndex).ConfigureAwait(false);
        Wrap(message);
    }

    private void Wrap(PipelineMessage message)
    {
        if (message.Response is not { } response)
        {
            return;
        }

        if (response.Headers.TryGetValue("X-Generation-Id", out var generation) && !string.IsNullOrEmpty(generation))
        {
            _observer.OnGenerationId(generation);
        }

        if (response.Status is >= 200 and < 300 && !message.BufferResponse && response.ContentStream is { } stream
            && response.Headers.TryGetValue("Content-Type", out var type)
            && type?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true)
        {
            // A provider may cut a token inside a character outside the BMP and write the half as an escape (JSON allows
            // it); both the guard and the SDK read it as U+FFFD rather than failing the answer (JsonBodies).
            response.ContentStream = new ProviderStreamGuard(new LoneSurrogateStream(stream), _observer, message.CancellationToken);
        }
    }
}

/// <summary>A read-through stream over an SSE body that releases bytes to its reader one complete event at a time and
/// has each event inspected first (see <see cref="ProviderStreamPolicy"/>): <see cref="SseEventScanner"/> finds the
/// events, <see cref="OpenRouterChunkInspector"/> reads them. Bytes are released only at blank lines, so multi-byte
/// UTF-8 characters split across network writes are never cut.</summary>
internal sealed class ProviderStreamGuard : ForwardReadStream
{
    private const int MaxEventBytes = 8 << 20;
    private readonly Stream _inner;
    private readonly SseEventScanner _scanner = new();
    private readonly OpenRouterChunkInspector _inspector;
    private byte[] _buffer = new byte[8192];
    private int _released;
    private int _releaseEnd;
    private int _scan;
    private int _end;
    private bool _eof;
    private ProviderException? _fault;
    private readonly CancellationTokenRegistration _stop;

    public ProviderStreamGuard(Stream inner, ProviderObserver observer, CancellationToken stop)
    {
        _inner = inner;
        _inspector = new OpenRouterChunkInspector(observer);

        // Stopping the generation closes the response at once (and with it the connection), whether or not a read is
        // pending or the SDK ever disposes the response: the provider sees the disconnect and stops generating.
        _stop = stop.Register(static state => ((Stream)state!).Dispose(), inner);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            if (Serve(buffer) is { } served)
            {
                return served;
            }

            int read;
            try
            {
                read = _inner.Read(_buffer, _end, _buffer.Length - _end);
            }
            catch (IOException e)
            {
                throw Broken(e);
            }

            Received(read);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (Serve(buffer.Span) is { } served)
            {
                return served;
            }

            int read;
            try
            {
                read = await _inner.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw Broken(e);
            }

            Received(read);
        }
    }

    /// <summary>Bytes of complete events if any are waiting, else the pending failure, else 0 at the end; null when
    /// more must be read (after making room for it).</summary>
    private int? Serve(Span<byte> destination)
    {
        if (TryRelease(destination, out var copied))
        {
            return copied;
        }

        if (_fault is not null)
        {
            throw _fault;
        }

        if (_eof)
        {
            return 0;
        }

        Prepare();
        return null;
    }

    private bool TryRelease(Span<byte> destination, out int copied)
    {
        copied = Math.Min(destination.Length, _releaseEnd - _released);
        if (copied <= 0)
        {
            copied = 0;
            return false;
        }

        _buffer.AsSpan(_released, copied).CopyTo(destination);
        _released += copied;
        return true;
    }

    /// <summary>Moves unreleased bytes to the front and makes room for the next read.</summary>
    private void Prepare()
    {
        if (_released > 0)
        {
            var keep = _end - _released;
            Buffer.BlockCopy(_buffer, _released, _buffer, 0, keep);
            _releaseEnd -= _released;
            _scan -= _released;
            _end = keep;
            _released = 0;
        }

        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxEventBytes)
            {
                throw new ProviderException(ErrorCodes.LlmStreamError,
                    $"The LLM endpoint sent one stream event larger than {MaxEventBytes} bytes; the answer was stopped.");
            }

            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
    }

    private void Received(int read)
    {
        if (read == 0)
        {
            _eof = true;
            if (!_inspector.SawFinish)
            {
                _fault = new ProviderException(ErrorCodes.LlmTruncated,
                    "The LLM endpoint ended the answer without a finish reason, so it is incomplete; the text received so far is kept.",
                    retryable: true);
            }

            // An unterminated trailing event is discarded (SSE rules); complete ones were all released already.
            _end = _releaseEnd;
            return;
        }

        _end += read;
        try
        {
            Scan();
        }
        catch (ProviderException e)
        {
            // The events before the bad one still go to the reader first; the failure comes after them.
            _fault = e;
            _end = _releaseEnd;
            _scan = _end;
        }
    }

    private void Scan()
    {
        while (_scan < _end)
        {
            if (!_scanner.TryScan(_buffer.AsSpan(_scan, _end - _scan), out var consumed, out var sseEvent))
            {
                _scan = _end;
                return;
            }

            _scan += consumed;
            if (sseEvent.HasData)
            {
                _inspector.Inspect(sseEvent.Data);
            }

            _releaseEnd = _scan; // a blank line ends an event: the bytes up to here may go to the reader
        }
    }

    private static ProviderException Broken(Exception e) => new(ErrorCodes.LlmTruncated,
        "The connection to the LLM endpoint broke in the middle of the answer; the text received so far is kept.", retryable: true,
        innerException: e);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Dispose();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _stop.DisposeAsync().ConfigureAwait(false);
        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
