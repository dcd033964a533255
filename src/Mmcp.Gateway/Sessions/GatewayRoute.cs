namespace Mmcp.Gateway.Sessions;

/// <summary>Which MCP endpoint a request or a session belongs to: the aggregated <c>/mcp</c>, or one server's pass-through.</summary>
internal sealed record GatewayRoute(string? ServerId)
{
    public static GatewayRoute Aggregated { get; } = new((string?)null);

    public static GatewayRoute ForServer(string serverId) => new(serverId);

    public override string ToString() => ServerId is null ? "/mcp" : $"/servers/{ServerId}/mcp";
}
