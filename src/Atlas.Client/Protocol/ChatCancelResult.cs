using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

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
