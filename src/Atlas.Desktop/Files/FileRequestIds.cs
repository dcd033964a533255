using System.Runtime.CompilerServices;
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
/// path and query, the conditions and the Content-Range, and — for a change it answered with success — the body (a
/// multipart body with its boundary masked): the same key for another change is refused with <c>duplicate_request</c>,
/// so a client is never told that bytes it did not get written were. Without the header a change runs as before.</summary>
internal static class FileRequestIds
{
    private const string HeaderName = "Idempotency-Key";
    private const int MaxKeyChars = 128;

    /// <summary>The body digest of each kept success answer (dropped with the answer).</summary>
    private static readonly ConditionalWeakTable<AtlasEnvelope, string> Bodies = new();

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
        using var body = BodyDigest.For(request);
        var ran = false;
        var reply = await cache.GetOrRunAsync(context.Session().Device.Id, "rest:" + key, "rest_file", Encoding.UTF8.GetBytes(fingerprint),
            rerunnable: false, async () =>
            {
                ran = true;
                try
                {
                    request.Body = body.Watch(request.Body);
                    var answer = new AtlasEnvelope { Type = MessageTypes.FileResponse, Data = await change().ConfigureAwait(false) };
                    Bodies.AddOrUpdate(answer, body.Finish()); // a change that succeeded has read its whole body
                    return answer;
                }
                catch (AtlasException e) when (e.Code is not (ErrorCodes.Revoked or ErrorCodes.InternalError))
                {
                    // A refusal is the answer to this change: sent again, it is refused the same way, never run again.
                    return new AtlasEnvelope { Type = MessageTypes.Error, Error = new AtlasError { Code = e.Code, Message = e.Message } };
                }
            }).ConfigureAwait(false);
        if (!ran && reply.Error is null && Bodies.TryGetValue(reply, out var first))
        {
            // A replay of a success: only the same bytes get that answer (a refusal changed nothing: any body may hear it again).
            await body.ReadToEndAsync(request.Body, context.RequestAborted).ConfigureAwait(false);
            if (body.Finish() != first)
            {
                throw new AtlasException(ErrorCodes.DuplicateRequest,
                    $"The {HeaderName} '{key}' was already used for a change with another body; use a new key for a new change.");
            }
        }

        return reply.Error is { } error ? ApiErrors.Result(error.Code, error.Message) : Answer(reply.Data!.Value, successStatus);
    }

    private static IResult Answer(JsonElement data, int status) =>
        Results.Text(data.GetRawText(), "application/json; charset=utf-8", Encoding.UTF8, status);
}
