using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

/// <summary>The <c>data</c> of a <c>chat_response</c> frame: one numbered event of a generation.</summary>
/// <remarks><see cref="Seq"/> starts at 1 and increases by one per event of the message; a client keeps the last one it
/// saw and resumes from it after a reconnect.</remarks>
public sealed class ChatEvent
{
    /// <summary>The assistant message (generation) this event belongs to.</summary>
    [JsonPropertyName("messageId")]
    public string MessageId { get; set; } = "";

    /// <summary>The event's sequence number within the message.</summary>
    [JsonPropertyName("seq")]
    public long Seq { get; set; }

    /// <summary>One of <see cref="ChatEventKinds"/>.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    /// <summary>The conversation (start and snapshot events).</summary>
    [JsonPropertyName("conversationId")]
    public string? ConversationId { get; set; }

    /// <summary>The client's request id (start and snapshot events).</summary>
    [JsonPropertyName("requestId")]
    public string? RequestId { get; set; }

    /// <summary>The model (start, done and snapshot events).</summary>
    [JsonPropertyName("model")]
    public string? Model { get; set; }

    /// <summary>The user message this turn replaced, with everything after it (start events of an edit, regenerate or
    /// retry): other sessions drop those messages.</summary>
    [JsonPropertyName("replaces")]
    public string? Replaces { get; set; }

    /// <summary>The user's message (start events), so other sessions of the device can show it.</summary>
    [JsonPropertyName("userMessage")]
    public ChatMessageView? UserMessage { get; set; }

    /// <summary>Text to append (delta events).</summary>
    [JsonPropertyName("delta")]
    public string? Delta { get; set; }

    /// <summary>The tool call (tool_call events).</summary>
    [JsonPropertyName("toolCall")]
    public ChatToolCall? ToolCall { get; set; }

    /// <summary>The tool result (tool_result events).</summary>
    [JsonPropertyName("toolResult")]
    public ChatToolResult? ToolResult { get; set; }

    /// <summary>Why the model stopped: <c>stop</c>, <c>length</c>, <c>tool_calls</c>, <c>content_filter</c> (done events).</summary>
    [JsonPropertyName("finishReason")]
    public string? FinishReason { get; set; }

    /// <summary>Tokens and cost of the whole generation, all tool rounds included (done, error and cancelled events).</summary>
    [JsonPropertyName("usage")]
    public ChatUsage? Usage { get; set; }

    /// <summary>What went wrong (error events; snapshots of failed messages).</summary>
    [JsonPropertyName("error")]
    public AtlasError? Error { get; set; }

    /// <summary>A remark about an otherwise finished answer, for example that the tool-call cap was reached.</summary>
    [JsonPropertyName("notice")]
    public AtlasError? Notice { get; set; }

    /// <summary>The message's status (snapshot events).</summary>
    [JsonPropertyName("status")]
    public string? Status { get; set; }

    /// <summary>The whole text so far (snapshot events).</summary>
    [JsonPropertyName("content")]
    public string? Content { get; set; }

    /// <summary>The tool activity so far (snapshot events).</summary>
    [JsonPropertyName("tools")]
    public List<ChatToolActivity>? Tools { get; set; }
}
