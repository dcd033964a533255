using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

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
