using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

/// <summary>The body of <c>POST /auth</c>.</summary>
public sealed class AuthRequest
{
    /// <summary><see cref="AtlasProtocol.GrantPairingTicket"/> or <see cref="AtlasProtocol.GrantDeviceCredential"/>.</summary>
    [JsonPropertyName("grantType")]
    public string GrantType { get; set; } = "";

    /// <summary>The pairing ticket from the QR link (pairing grant).</summary>
    [JsonPropertyName("ticket")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Ticket { get; set; }

    /// <summary>A human name for the device, shown on the desktop (pairing grant).</summary>
    [JsonPropertyName("deviceName")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DeviceName { get; set; }

    /// <summary>The device platform, for example <c>android</c>, <c>ios</c>, <c>web</c>, <c>dotnet</c> (pairing grant).</summary>
    [JsonPropertyName("platform")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Platform { get; set; }

    /// <summary>A random value from the device that makes the check code unique to this redemption (pairing grant).</summary>
    [JsonPropertyName("clientNonce")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClientNonce { get; set; }

    /// <summary>The long-lived device credential (credential grant).</summary>
    [JsonPropertyName("deviceCredential")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DeviceCredential { get; set; }

    /// <summary>Credential grant on a device awaiting approval: wait up to this many seconds (max 30) for the decision.</summary>
    [JsonPropertyName("waitSeconds")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? WaitSeconds { get; set; }
}

/// <summary>The answer to a pairing-ticket grant.</summary>
public sealed class PairingResponse
{
    /// <summary><c>approved</c> or <c>pending</c> (waiting for the desktop user).</summary>
    [JsonPropertyName("status")]
    public string Status { get; set; } = "";

    /// <summary>The server-assigned device id.</summary>
    [JsonPropertyName("deviceId")]
    public string DeviceId { get; set; } = "";

    /// <summary>The long-lived device credential; the desktop keeps only its hash. Store it securely.</summary>
    [JsonPropertyName("deviceCredential")]
    public string DeviceCredential { get; set; } = "";

    /// <summary>The check code the desktop shows next to this pairing request; show it on the device too.</summary>
    [JsonPropertyName("checkCode")]
    public string CheckCode { get; set; } = "";

    /// <summary>The desktop's certificate pin (base64url SHA-256 of its SubjectPublicKeyInfo).</summary>
    [JsonPropertyName("fingerprint")]
    public string Fingerprint { get; set; } = "";

    /// <summary>The desktop's name.</summary>
    [JsonPropertyName("desktopName")]
    public string DesktopName { get; set; } = "";

    /// <summary>Permissions granted so far (empty while pending).</summary>
    [JsonPropertyName("permissions")]
    public List<string> Permissions { get; set; } = [];
}

/// <summary>The answer to a device-credential grant.</summary>
public sealed class SessionResponse
{
    /// <summary>The short-lived session token; send it as <c>Authorization: Bearer</c> or in the <c>auth</c> frame.</summary>
    [JsonPropertyName("sessionToken")]
    public string SessionToken { get; set; } = "";

    /// <summary>When the session token expires.</summary>
    [JsonPropertyName("expiresAt")]
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>The device the session belongs to.</summary>
    [JsonPropertyName("deviceId")]
    public string DeviceId { get; set; } = "";

    /// <summary>The device's current permissions.</summary>
    [JsonPropertyName("permissions")]
    public List<string> Permissions { get; set; } = [];

    /// <summary>The server's clock, for clients that need to correct skew.</summary>
    [JsonPropertyName("serverTime")]
    public DateTimeOffset ServerTime { get; set; }
}

/// <summary>The <c>data</c> of an <c>auth</c> frame.</summary>
public sealed class AuthFrame
{
    /// <summary>The session token from <c>POST /auth</c>.</summary>
    [JsonPropertyName("token")]
    public string Token { get; set; } = "";
}

/// <summary>The <c>data</c> of an <c>auth_success</c> frame.</summary>
public sealed class AuthSuccessFrame
{
    /// <summary>The authenticated device.</summary>
    [JsonPropertyName("deviceId")]
    public string DeviceId { get; set; } = "";

    /// <summary>When the session behind this socket expires; send a new <c>auth</c> frame before then to extend it.</summary>
    [JsonPropertyName("sessionExpiresAt")]
    public DateTimeOffset SessionExpiresAt { get; set; }

    /// <summary>The device's permissions.</summary>
    [JsonPropertyName("permissions")]
    public List<string> Permissions { get; set; } = [];

    /// <summary>The server's clock.</summary>
    [JsonPropertyName("serverTime")]
    public DateTimeOffset ServerTime { get; set; }

    /// <summary>How often the server sends <c>ping</c>; a client should do the same.</summary>
    [JsonPropertyName("heartbeatSeconds")]
    public int HeartbeatSeconds { get; set; }

    /// <summary>The protocol version the server speaks.</summary>
    [JsonPropertyName("protocol")]
    public int Protocol { get; set; } = AtlasProtocol.Version;
}
