namespace Mmcp.Client;

/// <summary>Where the connection to a server stands.</summary>
public enum ServerState
{
    /// <summary>Not connected; the next use connects (lazily).</summary>
    Disconnected,

    /// <summary>Starting or connecting now.</summary>
    Connecting,

    /// <summary>Connected and usable.</summary>
    Connected,

    /// <summary>Failed repeatedly; the hub waits until <see cref="ServerStatus.RetryAt"/> before trying again.</summary>
    BackingOff,
}
