using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

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
