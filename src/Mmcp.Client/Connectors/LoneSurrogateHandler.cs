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

    /// <summary>A response body read through <see cref="LoneSurrogateStream"/>, with the original's headers.</summary>
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
            new LoneSurrogateStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));

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
}
