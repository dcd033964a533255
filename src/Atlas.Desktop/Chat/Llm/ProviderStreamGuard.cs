using System.ClientModel.Primitives;
using System.Globalization;
using System.Text.Json;
using Atlas.Client.Protocol;

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
            response.ContentStream = new ProviderStreamGuard(stream, _observer, message.CancellationToken);
        }
    }
}

/// <summary>A read-through stream over an SSE body that releases bytes to its reader one complete event at a time and
/// inspects each event first (see <see cref="ProviderStreamPolicy"/>). Lines end with LF, CRLF or CR; bytes are split
/// only at line ends, so multi-byte UTF-8 characters split across network writes are never cut.</summary>
internal sealed class ProviderStreamGuard : Stream
{
    private const int MaxEventBytes = 8 << 20;
    private const byte Cr = (byte)'\r';
    private const byte Lf = (byte)'\n';
    private readonly Stream _inner;
    private readonly ProviderObserver _observer;
    private readonly MemoryStream _data = new();
    private byte[] _buffer = new byte[8192];
    private int _released;
    private int _releaseEnd;
    private int _lineStart;
    private int _scan;
    private int _end;
    private bool _hasData;
    private bool _sawFinish;
    private bool _eof;
    private ProviderException? _fault;
    private readonly CancellationTokenRegistration _stop;

    public ProviderStreamGuard(Stream inner, ProviderObserver observer, CancellationToken stop)
    {
        _inner = inner;
        _observer = observer;

        // Stopping the generation closes the response at once (and with it the connection), whether or not a read is
        // pending or the SDK ever disposes the response: the provider sees the disconnect and stops generating.
        _stop = stop.Register(static state => ((Stream)state!).Dispose(), inner);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
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
            _lineStart -= _released;
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
            if (!_sawFinish)
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
            _lineStart = _end;
        }
    }

    private void Scan()
    {
        while (_scan < _end)
        {
            var index = _buffer.AsSpan(_scan, _end - _scan).IndexOfAny(Cr, Lf);
            if (index < 0)
            {
                _scan = _end;
                return;
            }

            var lineEnd = _scan + index;
            int next;
            if (_buffer[lineEnd] == Cr)
            {
                if (lineEnd + 1 == _end)
                {
                    _scan = lineEnd; // a CR as the last byte: wait for the next one to see whether an LF follows
                    return;
                }

                next = _buffer[lineEnd + 1] == Lf ? lineEnd + 2 : lineEnd + 1;
            }
            else
            {
                next = lineEnd + 1;
            }

            Line(_buffer.AsSpan(_lineStart, lineEnd - _lineStart));
            if (lineEnd == _lineStart)
            {
                _releaseEnd = next; // a blank line ends an event: the bytes up to here may go to the reader
            }

            _lineStart = next;
            _scan = next;
        }
    }

    private void Line(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty)
        {
            if (_hasData)
            {
                _hasData = false;
                var data = _data.GetBuffer().AsMemory(0, (int)_data.Length);
                _data.SetLength(0);
                Inspect(data);
            }

            return;
        }

        if (line[0] == (byte)':')
        {
            return; // comment, e.g. ": OPENROUTER PROCESSING"
        }

        var colon = line.IndexOf((byte)':');
        var name = colon < 0 ? line : line[..colon];
        if (!name.SequenceEqual("data"u8))
        {
            return;
        }

        var value = colon < 0 ? [] : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        if (_hasData)
        {
            _data.WriteByte(Lf);
        }

        _data.Write(value);
        _hasData = true;
    }

    private void Inspect(ReadOnlyMemory<byte> data)
    {
        if (data.Span.Trim(" \t"u8).SequenceEqual("[DONE]"u8))
        {
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(data);
        }
        catch (JsonException)
        {
            throw new ProviderException(ErrorCodes.LlmStreamError, "The LLM endpoint sent a stream chunk that is not JSON; the answer was stopped.",
                retryable: true);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                _observer.OnGenerationId(id.GetString()!);
            }

            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                _observer.OnUsage(Long(usage, "prompt_tokens"), Long(usage, "completion_tokens"), Long(usage, "total_tokens"),
                    usage.TryGetProperty("cost", out var cost) && cost.ValueKind == JsonValueKind.Number && cost.TryGetDecimal(out var c) ? c : null);
            }

            if (root.TryGetProperty("error", out var error) && error.ValueKind is JsonValueKind.Object or JsonValueKind.String)
            {
                throw InBand(error);
            }

            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("finish_reason", out var finish)
                        && finish.ValueKind == JsonValueKind.String)
                    {
                        var reason = finish.GetString()!;
                        if (reason == "error")
                        {
                            throw new ProviderException(ErrorCodes.LlmStreamError,
                                "The LLM provider stopped the answer with an error (no details given); the text received so far is kept.",
                                retryable: true);
                        }

                        _sawFinish = true;
                        _observer.OnFinish(reason, choice.TryGetProperty("native_finish_reason", out var native)
                            && native.ValueKind == JsonValueKind.String ? native.GetString() : null);
                    }
                }
            }
        }
    }

    /// <summary>An error chunk inside a 200 stream: <c>{"error":{"code":"server_error"|502,"message":…}}</c>.</summary>
    private static ProviderException InBand(JsonElement error)
    {
        string? message = null;
        string? code = null;
        if (error.ValueKind == JsonValueKind.String)
        {
            message = error.GetString();
        }
        else
        {
            if (error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
            {
                message = m.GetString();
            }

            if (error.TryGetProperty("code", out var c))
            {
                code = c.ValueKind switch
                {
                    JsonValueKind.String => c.GetString(),
                    JsonValueKind.Number => c.GetRawText(),
                    _ => null,
                };
            }
        }

        var text = Clip(message ?? "no message");
        var status = int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
        var (mapped, retryable) = status switch
        {
            402 => (ErrorCodes.LlmNoCredits, false),
            429 => (ErrorCodes.LlmRateLimited, true),
            408 => (ErrorCodes.LlmTimeout, true),
            401 => (ErrorCodes.LlmAuthFailed, false),
            400 or 403 => (ErrorCodes.LlmRejected, false),
            _ => (ErrorCodes.LlmStreamError, true),
        };
        return new ProviderException(mapped,
            $"The LLM provider reported an error in the middle of the answer ({code ?? "no code"}: {text}); the text received so far is kept.",
            retryable: retryable);
    }

    internal static string Clip(string text) => text.Length <= 300 ? text : string.Concat(text.AsSpan(0, 300), "…");

    private static long Long(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : 0;

    private static ProviderException Broken(Exception e) => new(ErrorCodes.LlmTruncated,
        "The connection to the LLM endpoint broke in the middle of the answer; the text received so far is kept.", retryable: true,
        innerException: e);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Dispose();
            _inner.Dispose();
            _data.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _stop.DisposeAsync().ConfigureAwait(false);
        await _inner.DisposeAsync().ConfigureAwait(false);
        await _data.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
