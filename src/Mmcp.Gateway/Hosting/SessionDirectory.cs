using System.Collections.Concurrent;
using Mmcp.Gateway.Security;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.Hosting;

/// <summary>How the direct lane runs a plain tools/call of a session (see <see cref="JsonRpcFront"/>).</summary>
internal delegate ValueTask<CallToolResult> DirectCall(GatewayCaller caller, CallToolRequestParams parameters, CancellationToken cancellationToken);

/// <summary>A live 2025-era MCP session as the gateway knows it.</summary>
/// <param name="route">The endpoint that created it.</param>
/// <param name="owner">The token id of the caller that created it (<see langword="null"/> for a local caller without a token).</param>
/// <param name="createdAt">When it was created (a <see cref="TimeProvider"/> timestamp).</param>
/// <param name="call">How the direct lane calls a tool for it, or <see langword="null"/> when every call goes through the SDK.</param>
internal sealed class GatewaySession(GatewayRoute route, string? owner, long createdAt, DirectCall? call)
{
    private long _sdkSeenAt = createdAt;

    public GatewayRoute Route { get; } = route;

    public string? Owner { get; } = owner;

    public DirectCall? Call { get; } = call;

    /// <summary>Gets when the SDK last handled a request of this session (its idle clock restarts then).</summary>
    public long SdkSeenAt => Interlocked.Read(ref _sdkSeenAt);

    /// <summary>Gets the calls the direct lane is running for this session, by JSON-RPC id (for <c>notifications/cancelled</c>).</summary>
    public ConcurrentDictionary<RequestId, CancellationTokenSource> DirectCalls { get; } = new();

    public void SdkSeen(long timestamp) => Interlocked.Exchange(ref _sdkSeenAt, timestamp);
}

/// <summary>The live 2025-era MCP sessions: which endpoint and caller each belongs to, and the aggregated ones that get <c>list_changed</c> pushed.</summary>
internal sealed class SessionDirectory
{
    private readonly ConcurrentDictionary<string, GatewaySession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<McpServer, byte> _aggregated = new();
    private readonly TimeProvider _time;

    private int _dedicated;

    public SessionDirectory(TimeProvider time) => _time = time;

    public int Count => _sessions.Count;

    public int DedicatedCount => Volatile.Read(ref _dedicated);

    public bool TryReserveDedicated(int max)
    {
        if (Interlocked.Increment(ref _dedicated) <= max)
        {
            return true;
        }

        Interlocked.Decrement(ref _dedicated);
        return false;
    }

    public void ReleaseDedicated() => Interlocked.Decrement(ref _dedicated);

    public void Register(string sessionId, GatewayRoute route, string? owner, DirectCall? call) => _sessions[sessionId] = new GatewaySession(route, owner, _time.GetTimestamp(), call);

    public void Unregister(string sessionId)
    {
        if (_sessions.TryRemove(sessionId, out var session))
        {
            foreach (var call in session.DirectCalls.Values)
            {
                CancelQuietly(call);
            }
        }
    }

    public bool TryGet(string sessionId, out GatewaySession session) => _sessions.TryGetValue(sessionId, out session!);

    /// <summary>Returns whether the session may be used on <paramref name="route"/>; unknown sessions pass (the SDK answers 404 for them).</summary>
    public bool BelongsTo(string sessionId, GatewayRoute route) => !_sessions.TryGetValue(sessionId, out var session) || session.Route == route;

    /// <summary>Notes that a request of the session goes to the SDK, which restarts the session's idle clock.</summary>
    public void SdkSeen(string sessionId)
    {
        if (_sessions.TryGetValue(sessionId, out var session))
        {
            session.SdkSeen(_time.GetTimestamp());
        }
    }

    /// <summary>Returns whether the SDK handled a request of the session less than <paramref name="within"/> ago.</summary>
    public bool SdkSeenWithin(GatewaySession session, TimeSpan within) => _time.GetElapsedTime(session.SdkSeenAt) < within;

    public void AddAggregated(McpServer server) => _aggregated.TryAdd(server, 0);

    public void RemoveAggregated(McpServer server) => _aggregated.TryRemove(server, out _);

    public ICollection<McpServer> AggregatedServers => _aggregated.Keys;

    private static void CancelQuietly(CancellationTokenSource call)
    {
        try
        {
            call.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call ended meanwhile.
        }
    }
}
