using System.Text;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Realtime;

namespace Atlas.Desktop.Files;

/// <summary>Request ids for the REST file changes: a change sent with an <c>Idempotency-Key</c> header runs once per
/// device and key; sending it again (the answer was lost on the way) gets the first answer, refusals included, from the
/// same bounded cache the WebSocket requests use (<c>Atlas:WebSocket:Idempotency*</c>). The key covers the method, the
/// path and query, the conditions and the Content-Range, not the body: the same key for another change is refused with
/// <c>duplicate_request</c>. Without the header a change runs as before.</summary>
internal static class FileRequestIds
{
    private const string HeaderName = "Idempotency-Key";
    private const int MaxKeyChars = 128;

    /// <summary>Runs <paramref name="change"/> once per key and answers with its JSON (status
    /// <paramref name="successStatus"/>) or its refusal.</summary>
    public static async Task<IResult> RunOnceAsync(HttpContext context, IdempotencyCache cache, int successStatus,
        Func<Task<JsonElement>> change)
    {
        var key = context.Request.Headers[HeaderName].ToString();
        if (key.Length == 0)
        {
            return Answer(await change().ConfigureAwait(false), successStatus);
        }

        if (key.Length > MaxKeyChars)
        {
            throw new AtlasException(ErrorCodes.BadRequest, $"The {HeaderName} header takes 1 to {MaxKeyChars} characters.");
        }

        var request = context.Request;
        var fingerprint = string.Join('\n', request.Method, request.Path.Value, request.QueryString.Value,
            request.Headers.IfMatch.ToString(), request.Headers.IfNoneMatch.ToString(), request.Headers.ContentRange.ToString());
        var reply = await cache.GetOrRunAsync(context.Session().Device.Id, "rest:" + key, "rest_file", Encoding.UTF8.GetBytes(fingerprint),
            rerunnable: false, async () =>
            {
                try
                {
                    return new AtlasEnvelope { Type = MessageTypes.FileResponse, Data = await change().ConfigureAwait(false) };
                }
                catch (AtlasException e) when (e.Code is not (ErrorCodes.Revoked or ErrorCodes.InternalError))
                {
                    // A refusal is the answer to this change: sent again, it is refused the same way, never run again.
                    return new AtlasEnvelope { Type = MessageTypes.Error, Error = new AtlasError { Code = e.Code, Message = e.Message } };
                }
            }).ConfigureAwait(false);
        return reply.Error is { } error ? ApiErrors.Result(error.Code, error.Message) : Answer(reply.Data!.Value, successStatus);
    }

    private static IResult Answer(JsonElement data, int status) =>
        Results.Text(data.GetRawText(), "application/json; charset=utf-8", Encoding.UTF8, status);
}
