using System.Net;
using Shared.Json;

namespace Mmcp.Client.Connectors;

/// <summary>
/// What a remote (HTTP) server answers, JSON bodies and SSE streams alike, with lone surrogate escapes read as U+FFFD
/// (<see cref="LoneSurrogates"/>), as the stdio transport reads each line: the SDK's HTTP transport parses the bytes
/// itself, and one such escape would fail the message. The bytes pass as they come, each held back only while an escape
/// is cut off at the end of what has arrived; lengths do not change.
/// </summary>
internal sealed class LoneSurrogateHandler : DelegatingHandler
{
    public LoneSurrogateHandler(HttpMessageHandler inner)
        : base(inner)
    {
    }

    /// <summary>An HTTP client that reads through this handler.</summary>
    public static HttpClient Client() => new(new LoneSurrogateHandler(new SocketsHttpHandler()), disposeHandler: true);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.Content is { } content && content.Headers.ContentType?.MediaType is { } type
            && (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase)))
        {
            response.Content = new Content(content);
        }

        return response;
    }

    /// <summary>A response body read through <see cref="ReplacingStream"/>, with the original's headers.</summary>
    private sealed class Content : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly long? _length;

        public Content(HttpContent inner)
        {
            _inner = inner;
            _length = inner.Headers.ContentLength; // the replacement keeps every length
            foreach (var (name, values) in inner.Headers)
            {
                Headers.TryAddWithoutValidation(name, values);
            }
        }

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new ReplacingStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await using var body = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await body.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = _length ?? 0;
            return _length is not null;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>A read-only stream that replaces lone surrogate escapes as the bytes pass.</summary>
    internal sealed class ReplacingStream(Stream inner) : Stream
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _start; // the first byte not yet handed out
        private int _settled; // the end of the bytes that may be handed out
        private int _end; // the end of the bytes read
        private bool _ended;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>Whether nothing settled is left to hand out, and the stream has not ended.</summary>
        private bool NeedsMore => _settled == _start && !(_ended && _start == _end);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (NeedsMore)
            {
                Filled(await inner.ReadAsync(_buffer.AsMemory(Compact()), cancellationToken).ConfigureAwait(false));
            }

            return HandOut(buffer.Span);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            while (NeedsMore)
            {
                Filled(inner.Read(_buffer, Compact(), _buffer.Length - _end));
            }

            return HandOut(buffer.AsSpan(offset, count));
        }

        /// <summary>Moves what is left (an escape cut off at the end: a few bytes) to the front; where to read to.</summary>
        private int Compact()
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
            return _end;
        }

        private void Filled(int read)
        {
            _ended = read == 0;
            _end += read;
            LoneSurrogates.Replace(_buffer.AsSpan(0, _end), final: _ended, out _settled);
        }

        private int HandOut(Span<byte> destination)
        {
            var count = Math.Min(destination.Length, _settled - _start);
            _buffer.AsSpan(_start, count).CopyTo(destination);
            _start += count;
            return count;
        }

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
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
