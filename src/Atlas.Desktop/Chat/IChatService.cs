using System.Text.Json;

namespace Atlas.Desktop.Chat;

/// <summary>A chat request from a device. <see cref="DeviceId"/> comes from the session, never from the body;
/// <see cref="RequestId"/> is the client's id and idempotency key; <see cref="Data"/> is the frame's payload.</summary>
/// <param name="DeviceId">The device, from the session.</param>
/// <param name="RequestId">The client's request id (idempotency key).</param>
/// <param name="Data">The frame's data.</param>
/// <param name="Permissions">The device's permissions now.</param>
/// <param name="Origin">The socket (or HTTP request) asking, so copies broadcast to the device's other sessions skip it.</param>
/// <param name="AfterSeq">For a repeated send over SSE (<c>Last-Event-ID</c>): the last event the client has.</param>
internal sealed record ChatRequest(string DeviceId, string RequestId, JsonElement Data, IReadOnlyList<string> Permissions,
    object? Origin = null, long AfterSeq = 0);

/// <summary>The narrow seam between the protocol layer and the chat feature.</summary>
/// <remarks>
/// Each element yielded becomes the <c>data</c> of one <c>chat_response</c> frame answering the request (numbered
/// <see cref="Atlas.Client.Protocol.ChatEvent"/>s). Failures before a generation exists are thrown as
/// <see cref="Atlas.Client.AtlasException"/> with a stable code; failures of the generation itself are its terminal
/// <c>error</c> event. A generation belongs to the server: a cancelled token means the device went away, not that the
/// generation should stop; only <see cref="CancelAsync"/> stops it.
/// </remarks>
internal interface IChatService
{
    /// <summary>Starts a generation for a <c>chat_message</c>, or attaches to the one its request id already started.</summary>
    IAsyncEnumerable<JsonElement> SendAsync(ChatRequest request, CancellationToken cancellationToken);

    /// <summary>Replays a generation after <c>data.lastSeq</c> for <c>data.messageId</c> (or a snapshot), then follows it.</summary>
    IAsyncEnumerable<JsonElement> ResumeAsync(ChatRequest request, CancellationToken cancellationToken);

    /// <summary>Stops the generation named by <c>data.messageId</c>; returns the <c>data</c> of the acknowledgement.</summary>
    Task<JsonElement> CancelAsync(ChatRequest request, CancellationToken cancellationToken);

    /// <summary>A <c>conversation_request</c>: list, load, rename or delete; returns the <c>conversation_response</c> data.</summary>
    Task<JsonElement> ConversationAsync(ChatRequest request, CancellationToken cancellationToken);
}
