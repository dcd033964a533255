using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

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
