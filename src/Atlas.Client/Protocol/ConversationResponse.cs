using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

/// <summary>The <c>data</c> of a <c>conversation_response</c> frame.</summary>
public sealed class ConversationResponse
{
    /// <summary>The operation answered (<c>list</c>, <c>load</c>, <c>rename</c>, <c>delete</c>), or for changes pushed
    /// to other sessions <c>changed</c> or <c>deleted</c>.</summary>
    [JsonPropertyName("op")]
    public string Op { get; set; } = "";

    /// <summary>The conversations, most recently updated first (list).</summary>
    [JsonPropertyName("conversations")]
    public List<ConversationInfo>? Conversations { get; set; }

    /// <summary>The conversation (load, rename, changed).</summary>
    [JsonPropertyName("conversation")]
    public ConversationInfo? Conversation { get; set; }

    /// <summary>Its messages, oldest first (load).</summary>
    [JsonPropertyName("messages")]
    public List<ChatMessageView>? Messages { get; set; }

    /// <summary>The deleted conversation (delete, deleted).</summary>
    [JsonPropertyName("conversationId")]
    public string? ConversationId { get; set; }

    /// <summary>The cursor of the next page (search), absent on the last page.</summary>
    [JsonPropertyName("next")]
    public string? Next { get; set; }
}
