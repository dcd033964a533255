using System.Text.Json;
using Atlas.Client.Protocol;

namespace Atlas.Desktop.Media;

/// <summary>What the socket's <c>media_process</c> and REST's <c>POST /media/process</c> decide alike about a request and
/// its request id.</summary>
internal static class MediaRequests
{
    /// <summary>A refusal that may pass when the same request is sent again (a full queue or job limit, a job cancelled
    /// on the desktop, whose message says to send it again): it is answered but never kept as the answer of its id.</summary>
    public static bool IsTransientRefusal(string code) =>
        code is ErrorCodes.RateLimited or ErrorCodes.Cancelled or ErrorCodes.Revoked or ErrorCodes.InternalError;

    /// <summary>The request names a file of the device's space (it then needs <c>files.read</c>, checked before any
    /// kept answer is given).</summary>
    public static bool HasPath(JsonElement? data) =>
        data is { ValueKind: JsonValueKind.Object } d && d.TryGetProperty("path", out var path)
        && path.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);
}
