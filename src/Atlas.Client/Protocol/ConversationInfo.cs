using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

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
