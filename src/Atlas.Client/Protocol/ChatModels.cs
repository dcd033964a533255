using System.Text.Json;
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

/// <summary>Something attached to a chat message.</summary>
public sealed class ChatAttachment
{
    /// <summary>An image in the device's files (<see cref="Path"/>), sent to vision models.</summary>
    public const string Image = "image";

    /// <summary>Text context such as a media result's context card, OCR text or a transcript (<see cref="Text"/>).</summary>
    public const string Context = "context";

    /// <summary><see cref="Image"/> or <see cref="Context"/>.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    /// <summary>The file's path in the device's namespace (images).</summary>
    [JsonPropertyName("path")]
    public string? Path { get; set; }

    /// <summary>A label for the context (for example <c>OCR of receipt.jpg</c>).</summary>
    [JsonPropertyName("title")]
    public string? Title { get; set; }

    /// <summary>The context text.</summary>
    [JsonPropertyName("text")]
    public string? Text { get; set; }
}

/// <summary>The <c>data</c> of a <c>resume</c> frame.</summary>
public sealed class ChatResumeRequest
{
    /// <summary>The assistant message (generation) to resume.</summary>
    [JsonPropertyName("messageId")]
    public string MessageId { get; set; } = "";

    /// <summary>The last sequence number the client received (0 for none).</summary>
    [JsonPropertyName("lastSeq")]
    public long LastSeq { get; set; }
}

/// <summary>The <c>data</c> of a <c>chat_cancel</c> frame (and the body of <c>POST /chat/cancel</c>).</summary>
public sealed class ChatCancelRequest
{
    /// <summary>The assistant message (generation) to stop.</summary>
    [JsonPropertyName("messageId")]
    public string MessageId { get; set; } = "";
}

/// <summary>The answer to a cancel: the generation's status afterwards.</summary>
public sealed class ChatCancelResult
{
    /// <summary>The message.</summary>
    [JsonPropertyName("messageId")]
    public string MessageId { get; set; } = "";

    /// <summary>One of the <see cref="ChatStatus"/> values (<c>cancelled</c>, or how it had already ended).</summary>
    [JsonPropertyName("status")]
    public string Status { get; set; } = "";
}

/// <summary>The status of an assistant message.</summary>
public static class ChatStatus
{
    /// <summary>Being generated.</summary>
    public const string Streaming = "streaming";

    /// <summary>Finished normally.</summary>
    public const string Done = "done";

    /// <summary>Ended with an error (the text received so far is kept).</summary>
    public const string Error = "error";

    /// <summary>Stopped by <c>chat_cancel</c>.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The desktop stopped while it was being generated.</summary>
    public const string Interrupted = "interrupted";
}

/// <summary>The kinds of <see cref="ChatEvent"/>.</summary>
public static class ChatEventKinds
{
    /// <summary>First event: the ids, the model and the user's message.</summary>
    public const string Start = "start";

    /// <summary>Text to append.</summary>
    public const string Delta = "delta";

    /// <summary>The model asked for a tool.</summary>
    public const string ToolCall = "tool_call";

    /// <summary>A tool's result (or why it failed or was denied).</summary>
    public const string ToolResult = "tool_result";

    /// <summary>Terminal: finished, with the finish reason and usage.</summary>
    public const string Done = "done";

    /// <summary>Terminal: failed, with a stable error code.</summary>
    public const string Error = "error";

    /// <summary>Terminal: stopped by <c>chat_cancel</c>.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The whole message so far (after a resume whose events are no longer buffered); terminal when its
    /// status is.</summary>
    public const string Snapshot = "snapshot";

    /// <summary>Whether an event of <paramref name="kind"/> with <paramref name="status"/> ends the generation.</summary>
    /// <param name="kind">The event kind.</param>
    /// <param name="status">The snapshot status, for snapshots.</param>
    /// <returns><see langword="true"/> for a terminal event.</returns>
    public static bool IsTerminal(string kind, string? status = null) =>
        kind is Done or Error or Cancelled || (kind == Snapshot && status is not null and not ChatStatus.Streaming);
}

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

/// <summary>A tool call requested by the model.</summary>
public sealed class ChatToolCall
{
    /// <summary>The call id (pairs the call with its result).</summary>
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    /// <summary>The aggregated tool name, <c>&lt;serverId&gt;__&lt;tool&gt;</c>.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>The MCP server, when the name is one of the hub's tools.</summary>
    [JsonPropertyName("server")]
    public string? Server { get; set; }

    /// <summary>The tool's own name on its server.</summary>
    [JsonPropertyName("tool")]
    public string? Tool { get; set; }

    /// <summary>The arguments the model passed.</summary>
    [JsonPropertyName("arguments")]
    public JsonElement? Arguments { get; set; }
}

/// <summary>The result of a tool call, as shown to the user.</summary>
public sealed class ChatToolResult
{
    /// <summary>The call id.</summary>
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    /// <summary>The aggregated tool name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>Whether the tool ran and succeeded.</summary>
    [JsonPropertyName("ok")]
    public bool Ok { get; set; }

    /// <summary>The result text (possibly shortened for display; the model got all of it).</summary>
    [JsonPropertyName("content")]
    public string? Content { get; set; }

    /// <summary>Why it failed: <see cref="ErrorCodes.ToolDenied"/> or <see cref="ErrorCodes.ToolFailed"/>.</summary>
    [JsonPropertyName("error")]
    public AtlasError? Error { get; set; }
}

/// <summary>A tool call with its result, as stored with a message.</summary>
public sealed class ChatToolActivity
{
    /// <summary>The call.</summary>
    [JsonPropertyName("call")]
    public ChatToolCall Call { get; set; } = new();

    /// <summary>The result, when it arrived.</summary>
    [JsonPropertyName("result")]
    public ChatToolResult? Result { get; set; }
}

/// <summary>Token counts and cost reported by the provider.</summary>
public sealed class ChatUsage
{
    /// <summary>Prompt tokens, summed over every round of the generation.</summary>
    [JsonPropertyName("promptTokens")]
    public long PromptTokens { get; set; }

    /// <summary>Completion tokens, summed over every round.</summary>
    [JsonPropertyName("completionTokens")]
    public long CompletionTokens { get; set; }

    /// <summary>Total tokens.</summary>
    [JsonPropertyName("totalTokens")]
    public long TotalTokens { get; set; }

    /// <summary>The cost in provider credits (OpenRouter's <c>usage.cost</c>), when the provider reports it.</summary>
    [JsonPropertyName("cost")]
    public decimal? Cost { get; set; }
}

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

/// <summary>The <c>data</c> of a <c>conversation_request</c> frame.</summary>
public sealed class ConversationRequest
{
    /// <summary><c>list</c>, <c>load</c>, <c>rename</c>, <c>delete</c> or <c>search</c>.</summary>
    [JsonPropertyName("op")]
    public string Op { get; set; } = "";

    /// <summary>The conversation (load, rename, delete).</summary>
    [JsonPropertyName("conversationId")]
    public string? ConversationId { get; set; }

    /// <summary>The new title (rename).</summary>
    [JsonPropertyName("title")]
    public string? Title { get; set; }

    /// <summary>The text to find in titles and messages (search; 1 to 200 characters, matched as written, not as a
    /// pattern).</summary>
    [JsonPropertyName("query")]
    public string? Query { get; set; }

    /// <summary>At most this many conversations in one page (search; 1 to 50, default 20).</summary>
    [JsonPropertyName("limit")]
    public int? Limit { get; set; }

    /// <summary>The <c>next</c> of the previous page (search), to read the page after it.</summary>
    [JsonPropertyName("cursor")]
    public string? Cursor { get; set; }
}

/// <summary>A conversation in a list.</summary>
public sealed class ConversationInfo
{
    /// <summary>The conversation id.</summary>
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    /// <summary>The title (the start of the first message until renamed).</summary>
    [JsonPropertyName("title")]
    public string Title { get; set; } = "";

    /// <summary>When it was created.</summary>
    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When a message was last added or it was renamed.</summary>
    [JsonPropertyName("updatedAt")]
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>How many messages it holds.</summary>
    [JsonPropertyName("messageCount")]
    public int MessageCount { get; set; }

    /// <summary>The start of its last message with text (at most 160 characters), for the conversation list.</summary>
    [JsonPropertyName("preview")]
    public string? Preview { get; set; }

    /// <summary>The most recent message text around the search match (search; absent when only the title matched).</summary>
    [JsonPropertyName("match")]
    public string? Match { get; set; }
}

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

/// <summary>The answer of <c>GET /models</c>: the models the client may pick.</summary>
public sealed class ModelList
{
    /// <summary>The model used when a message names none.</summary>
    [JsonPropertyName("defaultModel")]
    public string DefaultModel { get; set; } = "";

    /// <summary>The models (the default first).</summary>
    [JsonPropertyName("models")]
    public List<ModelInfo> Models { get; set; } = [];
}

/// <summary>One model of the picker.</summary>
public sealed class ModelInfo
{
    /// <summary>The model id to send in <see cref="ChatMessageRequest.Model"/>.</summary>
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    /// <summary>A display name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>The context window in tokens, when known.</summary>
    [JsonPropertyName("contextLength")]
    public int? ContextLength { get; set; }

    /// <summary>Whether it accepts images (<see langword="null"/> when the endpoint does not say).</summary>
    [JsonPropertyName("vision")]
    public bool? Vision { get; set; }

    /// <summary>Whether it supports tool calling (<see langword="null"/> when the endpoint does not say).</summary>
    [JsonPropertyName("tools")]
    public bool? Tools { get; set; }

    /// <summary>Price per prompt token in provider credits, as the provider wrote it.</summary>
    [JsonPropertyName("promptPrice")]
    public string? PromptPrice { get; set; }

    /// <summary>Price per completion token.</summary>
    [JsonPropertyName("completionPrice")]
    public string? CompletionPrice { get; set; }
}
