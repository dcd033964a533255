using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

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
