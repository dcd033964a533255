using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

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
