using System.Text.Json;

namespace Atlas.Desktop.Chat;

/// <summary>A chat request from a device. <see cref="DeviceId"/> comes from the session, never from the body;
/// <see cref="RequestId"/> is the client's id and idempotency key; <see cref="Data"/> is the frame's payload.</summary>
internal sealed record ChatRequest(string DeviceId, string RequestId, JsonElement Data, IReadOnlyList<string> Permissions);

/// <summary>The narrow seam between the protocol layer and the chat feature (issue 6 plugs the LLM in here).</summary>
/// <remarks>
/// Each element yielded becomes the <c>data</c> of one <c>chat_response</c> frame answering the request (deltas carry
/// <c>messageId</c> and <c>seq</c>). Failures are thrown as <see cref="Atlas.Client.AtlasException"/> with a stable code.
/// A generation belongs to the server: a cancelled token means the device went away, not
/// that the generation should stop; only <see cref="CancelAsync"/> stops it.
/// </remarks>
internal interface IChatService
{
    IAsyncEnumerable<JsonElement> SendAsync(ChatRequest request, CancellationToken cancellationToken);

    /// <summary>Replays a generation from the sequence number after <c>data.lastSeq</c> for <c>data.messageId</c>.</summary>
    IAsyncEnumerable<JsonElement> ResumeAsync(ChatRequest request, CancellationToken cancellationToken);

    /// <summary>Stops the generation named by <c>data.messageId</c>; returns the <c>data</c> of the acknowledgement.</summary>
    Task<JsonElement> CancelAsync(ChatRequest request, CancellationToken cancellationToken);
}
