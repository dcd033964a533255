using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

/// <summary>One stored message of a conversation.</summary>
public sealed class ChatMessageView
{
    /// <summary>The message id.</summary>
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    /// <summary><c>user</c> or <c>assistant</c>.</summary>
    [JsonPropertyName("role")]
    public string Role { get; set; } = "";

    /// <summary>The text.</summary>
    [JsonPropertyName("content")]
    public string Content { get; set; } = "";

    /// <summary>One of <see cref="ChatStatus"/>.</summary>
    [JsonPropertyName("status")]
    public string Status { get; set; } = ChatStatus.Done;

    /// <summary>When the message was created.</summary>
    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When an assistant message ended.</summary>
    [JsonPropertyName("completedAt")]
    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>The client's request id (user messages).</summary>
    [JsonPropertyName("requestId")]
    public string? RequestId { get; set; }

    /// <summary>The model (assistant messages).</summary>
    [JsonPropertyName("model")]
    public string? Model { get; set; }

    /// <summary>The finish reason (assistant messages).</summary>
    [JsonPropertyName("finishReason")]
    public string? FinishReason { get; set; }

    /// <summary>Usage and cost (assistant messages).</summary>
    [JsonPropertyName("usage")]
    public ChatUsage? Usage { get; set; }

    /// <summary>Why it failed (assistant messages with an error or interrupted status).</summary>
    [JsonPropertyName("error")]
    public AtlasError? Error { get; set; }

    /// <summary>The attachments (user messages).</summary>
    [JsonPropertyName("attachments")]
    public List<ChatAttachment>? Attachments { get; set; }

    /// <summary>Tool activity (assistant messages).</summary>
    [JsonPropertyName("tools")]
    public List<ChatToolActivity>? Tools { get; set; }

    /// <summary>The last event sequence number of an assistant message (resume from here).</summary>
    [JsonPropertyName("lastSeq")]
    public long? LastSeq { get; set; }
}
