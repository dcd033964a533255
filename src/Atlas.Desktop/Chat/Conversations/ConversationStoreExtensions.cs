using Atlas.Client;
using Atlas.Client.Protocol;

namespace Atlas.Desktop.Chat.Conversations;

/// <summary>Lookups every chat operation shares, with the error a device sees when the conversation is not its own.</summary>
internal static class ConversationStoreExtensions
{
    /// <summary>The device's conversation, or <see cref="ErrorCodes.NotFound"/> (<see cref="ErrorCodes.BadRequest"/>
    /// without an id).</summary>
    public static async Task<ConversationInfo> RequireAsync(this IConversationStore store, string deviceId, string? conversationId,
        CancellationToken cancellationToken) =>
        string.IsNullOrEmpty(conversationId)
            ? throw new AtlasException(ErrorCodes.BadRequest, "This operation needs a conversationId.")
            : await store.GetAsync(deviceId, conversationId, cancellationToken).ConfigureAwait(false) ?? throw NoConversation(conversationId);

    public static AtlasException NoConversation(string? id) =>
        new(ErrorCodes.NotFound, $"No conversation '{id}' on this device; list them with conversation_request op list.");
}
