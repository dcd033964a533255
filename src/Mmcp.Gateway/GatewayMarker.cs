namespace Mmcp.Gateway;

/// <summary>Registered by <c>AddMmcpGateway</c> so <c>MapMmcpGateway</c> can tell it was called.</summary>
internal sealed class GatewayMarker;
