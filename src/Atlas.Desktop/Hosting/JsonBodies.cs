using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Atlas.Client;
using Atlas.Client.Protocol;
using Shared.Json;

namespace Atlas.Desktop.Hosting;

/// <summary>
/// How the JSON that devices and the admin page send is read. A lone surrogate escape (<c>"\ud83d"</c>: what a phone's
/// JavaScript writes when it cuts a string inside an emoji) is valid JSON but no Unicode text, and System.Text.Json
/// refuses it; it is read as U+FFFD, as a UTF-8 decoder reads an ill-formed sequence, so the request does what it would
/// have done with that character replaced instead of failing as "not JSON". Only JSON bodies and frames pass through
/// here: file contents are never rewritten.
/// </summary>
internal static class JsonBodies
{
    /// <summary>The request's body as JSON text with lone surrogates read as U+FFFD.</summary>
    public static Stream Of(HttpRequest request) => new LoneSurrogateStream(request.Body);

    /// <summary>One JSON text (a WebSocket frame, a buffered body) with lone surrogates read as U+FFFD; a copy only when it had one.</summary>
    public static ReadOnlyMemory<byte> Of(ReadOnlyMemory<byte> json) => LoneSurrogates.Replaced(json);

    /// <summary>
    /// Reads the body as <typeparamref name="T"/>: a JSON content type is required (anything else is a clear
    /// <see cref="ErrorCodes.BadRequest"/>, not an unhandled exception); a body that is not JSON of the shape throws
    /// <see cref="JsonException"/>, which <c>WithAtlasErrors</c> answers with where it went wrong.
    /// </summary>
    public static async ValueTask<T?> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            throw new AtlasException(ErrorCodes.BadRequest, string.IsNullOrEmpty(request.ContentType)
                ? "The request has no Content-Type; send the body as JSON with 'Content-Type: application/json'."
                : $"The request's Content-Type is '{request.ContentType}'; send the body as JSON with 'Content-Type: application/json'.");
        }

        return await JsonSerializer.DeserializeAsync(Of(request), type, cancellationToken).ConfigureAwait(false);
    }
}
