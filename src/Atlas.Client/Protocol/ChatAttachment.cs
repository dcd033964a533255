using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

/// <summary>Something attached to a chat message.</summary>
public sealed class ChatAttachment
{
    /// <summary>An image in the device's files (<see cref="Path"/>), sent to vision models.</summary>
    public const string Image = "image";

    /// <summary>Text context such as a media result's context card, OCR text or a transcript (<see cref="Text"/>).</summary>
    public const string Context = "context";

    /// <summary><see cref="Image"/> or <see cref="Context"/>.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    /// <summary>The file's path in the device's namespace (images).</summary>
    [JsonPropertyName("path")]
    public string? Path { get; set; }

    /// <summary>A label for the context (for example <c>OCR of receipt.jpg</c>).</summary>
    [JsonPropertyName("title")]
    public string? Title { get; set; }

    /// <summary>The context text.</summary>
    [JsonPropertyName("text")]
    public string? Text { get; set; }
}
