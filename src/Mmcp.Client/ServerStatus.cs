using ModelContextProtocol.Protocol;

namespace Mmcp.Client;

/// <summary>The live state of one server's connection.</summary>
/// <param name="State">Where the connection stands.</param>
/// <param name="ConsecutiveFailures">How many attempts failed in a row (reset by a successful request).</param>
/// <param name="LastFailure">The most recent failure, kept after recovery for diagnostics, or <see langword="null"/>.</param>
public sealed record ServerStatus(ServerState State, int ConsecutiveFailures, ServerFailure? LastFailure)
{
    /// <summary>Gets when the hub will try again, while <see cref="State"/> is <see cref="ServerState.BackingOff"/>.</summary>
    public DateTimeOffset? RetryAt { get; init; }

    /// <summary>Gets how many times the hub started a new session because the server no longer knew the old one (a remote server that restarted), since the hub started.</summary>
    public int Reconnects { get; init; }

    /// <summary>Gets the protocol version negotiated with the connected server, or <see langword="null"/>.</summary>
    public string? ProtocolVersion { get; init; }

    /// <summary>Gets the name and version the connected server reported, or <see langword="null"/>.</summary>
    public Implementation? ServerInfo { get; init; }

    /// <summary>Gets the capabilities the connected server reported, or <see langword="null"/>.</summary>
    public ServerCapabilities? Capabilities { get; init; }

    /// <summary>Gets the id of the server process the hub runs over stdio while connected, or <see langword="null"/>.</summary>
    public int? ProcessId { get; init; }

    /// <summary>Gets the id of the process the hub launched on demand for this server (it outlives the hub), or <see langword="null"/>.</summary>
    public int? LaunchedProcessId { get; init; }
}
