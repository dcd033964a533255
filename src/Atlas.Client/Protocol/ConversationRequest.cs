using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

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
