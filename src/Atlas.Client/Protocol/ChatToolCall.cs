using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

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
