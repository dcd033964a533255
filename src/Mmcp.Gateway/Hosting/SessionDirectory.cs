using System.Collections.Concurrent;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.Hosting;

/// <summary>The live 2025-era MCP sessions: which endpoint each belongs to, and the aggregated ones that get <c>list_changed</c> pushed.</summary>
internal sealed class SessionDirectory
{
    private readonly ConcurrentDictionary<string, GatewayRoute> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<McpServer, byte> _aggregated = new();

    private int _dedicated;

    public int Count => _routes.Count;

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

    public void Register(string sessionId, GatewayRoute route) => _routes[sessionId] = route;

    public void Unregister(string sessionId) => _routes.TryRemove(sessionId, out _);

    /// <summary>Returns whether the session may be used on <paramref name="route"/>; unknown sessions pass (the SDK answers 404 for them).</summary>
    public bool BelongsTo(string sessionId, GatewayRoute route) => !_routes.TryGetValue(sessionId, out var owner) || owner == route;

    public void AddAggregated(McpServer server) => _aggregated.TryAdd(server, 0);

    public void RemoveAggregated(McpServer server) => _aggregated.TryRemove(server, out _);

    public ICollection<McpServer> AggregatedServers => _aggregated.Keys;
}
