namespace Atlas.Client.Protocol;

/// <summary>Protocol-wide constants shared by the desktop and its clients.</summary>
public static class AtlasProtocol
{
    /// <summary>The protocol version carried in every envelope's <c>v</c> field.</summary>
    public const int Version = 1;

    /// <summary>The pairing link version carried in the QR fragment's <c>v</c> field.</summary>
    public const int PairingLinkVersion = 1;

    /// <summary>The WebSocket path.</summary>
    public const string WebSocketPath = "/ws";

    /// <summary>The default HTTPS port of <c>atlas serve</c>.</summary>
    public const int DefaultPort = 47321;

    /// <summary>WebSocket close code: the socket did not authenticate or authentication failed.</summary>
    public const int CloseAuthFailed = 4001;

    /// <summary>WebSocket close code: the device was revoked.</summary>
    public const int CloseRevoked = 4003;

    /// <summary>WebSocket close code: no <c>auth</c> frame arrived in time.</summary>
    public const int CloseAuthTimeout = 4008;

    /// <summary>WebSocket close code: the session expired.</summary>
    public const int CloseSessionExpired = 4010;

    /// <summary>WebSocket close code: the peer stopped answering heartbeats.</summary>
    public const int CloseHeartbeatTimeout = 4011;

    /// <summary>WebSocket close code: a new socket of the same device took the place of this silent one.</summary>
    public const int CloseReplaced = 4012;

    /// <summary>WebSocket close code: the device has too many live connections.</summary>
    public const int CloseTooManyConnections = 4029;

    /// <summary>Auth grant: redeem a pairing ticket from a QR link.</summary>
    public const string GrantPairingTicket = "pairing_ticket";

    /// <summary>Auth grant: exchange a device credential for a session token.</summary>
    public const string GrantDeviceCredential = "device_credential";
}
