using ModelContextProtocol.Protocol;

namespace Mmcp.Client;

/// <summary>A resource template of one server.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="Template">The template.</param>
public sealed record HubResourceTemplate(string ServerId, ResourceTemplate Template);
