using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

/// <summary>The <c>data</c> of a <c>chat_cancel</c> frame (and the body of <c>POST /chat/cancel</c>).</summary>
public sealed class ChatCancelRequest
{
    /// <summary>The assistant message (generation) to stop.</summary>
    [JsonPropertyName("messageId")]
    public string MessageId { get; set; } = "";
}
