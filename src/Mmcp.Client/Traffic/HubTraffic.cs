using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Traffic;

/// <summary>Which way a JSON-RPC message travelled between the hub and a server.</summary>
public enum TrafficDirection
{
    /// <summary>From the hub to the server (requests, notifications, responses to the server's own requests).</summary>
    ToServer,

    /// <summary>From the server to the hub.</summary>
    FromServer,
}

/// <summary>One JSON-RPC message seen on a connection between the hub and a server (see <see cref="MmcpHub.ObserveTraffic"/>).</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="ConnectionId">Identifies the connection: the hub's shared connection to the server, or a dedicated one (for example a gateway's pass-through session).</param>
/// <param name="Direction">Which way the message travelled.</param>
/// <param name="Message">The message, as the SDK parsed or built it. Observers must not change it.</param>
/// <param name="At">When the message was seen.</param>
/// <param name="Timestamp">A <see cref="TimeProvider.GetTimestamp"/> value for measuring durations between messages.</param>
public sealed record HubTrafficEvent(string ServerId, string ConnectionId, TrafficDirection Direction, JsonRpcMessage Message, DateTimeOffset At, long Timestamp);
