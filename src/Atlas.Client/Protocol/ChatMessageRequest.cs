using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

/// <summary>The <c>data</c> of a <c>chat_message</c> frame (and the body of <c>POST /chat/message</c>).</summary>
/// <remarks>The frame's <c>id</c> (or the <c>Idempotency-Key</c> header) is the idempotency key: sending it again never
/// starts a second generation; it attaches to the first one.</remarks>
public sealed class ChatMessageRequest
{
    /// <summary>The conversation to continue; omit it to start a new conversation.</summary>
    [JsonPropertyName("conversationId")]
    public string? ConversationId { get; set; }

    /// <summary>The user's message.</summary>
    [JsonPropertyName("text")]
    public string Text { get; set; } = "";

    /// <summary>The model for this message (for example <c>openai/gpt-4o-mini</c>); the desktop's default when omitted.</summary>
    [JsonPropertyName("model")]
    public string? Model { get; set; }

    /// <summary>Context attached to the message: images from the device's files, media results.</summary>
    [JsonPropertyName("attachments")]
    public List<ChatAttachment>? Attachments { get; set; }

    /// <summary>Edit-and-resend, regenerate and retry: the id of a user message of <see cref="ConversationId"/> that this
    /// message replaces. That message and every later one of the conversation are deleted in the transaction that
    /// records this turn, and the conversation continues from this message (the model sees only what came before it).</summary>
    [JsonPropertyName("replaces")]
    public string? Replaces { get; set; }
}
