using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

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
