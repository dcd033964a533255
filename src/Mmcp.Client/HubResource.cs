using ModelContextProtocol.Protocol;

namespace Mmcp.Client;

/// <summary>A resource of one server. Its URI is the server's own; read it with the same server id.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="Resource">The resource.</param>
public sealed record HubResource(string ServerId, Resource Resource);
