using System.Text.Json;

namespace Atlas.Desktop.Media;

/// <summary>A media request from a device (device from the session; request id = idempotency key).</summary>
internal sealed record MediaRequest(string DeviceId, string RequestId, JsonElement Data);

/// <summary>The narrow seam between the protocol layer and the media pipeline (issue 7 plugs it in here).</summary>
/// <remarks>Progress reports become <c>media_result</c> frames with the given data; the returned element is the final
/// <c>media_result</c>. Failures are thrown as <see cref="Atlas.Client.AtlasException"/> with a stable code.</remarks>
internal interface IMediaService
{
    Task<JsonElement> ProcessAsync(MediaRequest request, IProgress<JsonElement> progress, CancellationToken cancellationToken);
}

/// <summary>The default until the media pipeline is plugged in: every call answers <c>not_available</c>.</summary>
internal sealed class UnavailableMediaService : IMediaService
{
    public const string Message = "Media processing is not available yet on this desktop.";

    public Task<JsonElement> ProcessAsync(MediaRequest request, IProgress<JsonElement> progress, CancellationToken cancellationToken) =>
        throw new Atlas.Client.AtlasException(Atlas.Client.Protocol.ErrorCodes.NotAvailable, Message);
}
