using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Client;

/// <summary>A discovered server with its connection state.</summary>
/// <param name="Server">The definition, where it came from, and what it shadows.</param>
/// <param name="Status">The connection state.</param>
public sealed record HubServerInfo(DiscoveredServer Server, ServerStatus Status)
{
    /// <summary>Gets the server id.</summary>
    public string Id => Server.Id;

    /// <summary>Gets the manifest.</summary>
    public ServerManifest Manifest => Server.Manifest;
}
