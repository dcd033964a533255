using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

/// <summary>One WebSocket frame of the Atlas protocol.</summary>
/// <remarks>
/// <c>{"v":1,"type":"file_request","id":"c-1","data":{…}}</c>. Client requests carry a client-generated
/// <see cref="Id"/> that doubles as the idempotency key; the server's replies and errors carry it back in
/// <see cref="Re"/>.
/// </remarks>
public sealed class AtlasEnvelope
{
    /// <summary>The protocol version (<see cref="AtlasProtocol.Version"/>).</summary>
    [JsonPropertyName("v")]
    public int V { get; set; } = AtlasProtocol.Version;

    /// <summary>The message type, one of <see cref="MessageTypes"/>.</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    /// <summary>The sender's id for this message (client requests: the idempotency key).</summary>
    [JsonPropertyName("id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Id { get; set; }

    /// <summary>The id of the request this message answers.</summary>
    [JsonPropertyName("re")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Re { get; set; }

    /// <summary>The type-specific payload.</summary>
    [JsonPropertyName("data")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Data { get; set; }

    /// <summary>The error, on <c>error</c> and <c>auth_failed</c> frames.</summary>
    [JsonPropertyName("error")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AtlasError? Error { get; set; }
}

/// <summary>An error on the wire: a stable <see cref="Code"/> and a human <see cref="Message"/>.</summary>
public sealed class AtlasError
{
    /// <summary>The stable code, one of <see cref="ErrorCodes"/>.</summary>
    [JsonPropertyName("code")]
    public string Code { get; set; } = "";

    /// <summary>What went wrong and how to fix it.</summary>
    [JsonPropertyName("message")]
    public string Message { get; set; } = "";

    /// <summary>Seconds to wait before retrying, for <see cref="ErrorCodes.RateLimited"/>.</summary>
    [JsonPropertyName("retryAfter")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? RetryAfter { get; set; }

    /// <summary>Whether trying the same thing again later may succeed (chat errors).</summary>
    [JsonPropertyName("retryable")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Retryable { get; set; }
}

/// <summary>The body of every REST error response.</summary>
public sealed class ErrorResponse
{
    /// <summary>The error.</summary>
    [JsonPropertyName("error")]
    public AtlasError Error { get; set; } = new();
}
