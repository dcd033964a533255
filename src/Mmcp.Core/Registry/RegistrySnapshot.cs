using System.Collections.Frozen;
using Mmcp.Core.Manifests;

namespace Mmcp.Core.Registry;

/// <summary>A server that discovery found, with where it came from and which lower-precedence definitions it hides.</summary>
/// <param name="Manifest">The winning definition.</param>
/// <param name="Provenance">Where the winning definition was found.</param>
/// <param name="Shadowed">Definitions with the same id from lower-precedence sources, in precedence order.</param>
public sealed record DiscoveredServer(ServerManifest Manifest, ServerProvenance Provenance, IReadOnlyList<ServerProvenance> Shadowed)
{
    /// <summary>Gets the server id.</summary>
    public string Id => Manifest.Id;
}

/// <summary>The merged result of reading every source at one moment.</summary>
public sealed class RegistrySnapshot
{
    private readonly FrozenDictionary<string, DiscoveredServer> _byId;

    internal RegistrySnapshot(IReadOnlyList<DiscoveredServer> servers, IReadOnlyList<ManifestDiagnostic> diagnostics, long version)
    {
        Servers = servers;
        Diagnostics = diagnostics;
        Version = version;
        _byId = servers.ToFrozenDictionary(s => s.Id, StringComparer.Ordinal);
    }

    /// <summary>Gets an empty snapshot.</summary>
    public static RegistrySnapshot Empty { get; } = new([], [], 0);

    /// <summary>Gets the servers, ordered by id.</summary>
    public IReadOnlyList<DiscoveredServer> Servers { get; }

    /// <summary>Gets every problem found in every source (invalid manifests are reported here, not thrown).</summary>
    public IReadOnlyList<ManifestDiagnostic> Diagnostics { get; }

    /// <summary>Gets a number that grows each time the set of servers changes.</summary>
    public long Version { get; }

    /// <summary>Finds a server by id.</summary>
    /// <param name="id">The server id.</param>
    /// <returns>The server, or <see langword="null"/>.</returns>
    public DiscoveredServer? Find(string id) => _byId.GetValueOrDefault(id);
}

/// <summary>What changed between two snapshots.</summary>
public sealed class RegistryChangedEventArgs : EventArgs
{
    internal RegistryChangedEventArgs(RegistrySnapshot snapshot, IReadOnlyList<string> added, IReadOnlyList<string> removed, IReadOnlyList<string> updated)
    {
        Snapshot = snapshot;
        Added = added;
        Removed = removed;
        Updated = updated;
    }

    /// <summary>Gets the new snapshot.</summary>
    public RegistrySnapshot Snapshot { get; }

    /// <summary>Gets the ids of servers that appeared.</summary>
    public IReadOnlyList<string> Added { get; }

    /// <summary>Gets the ids of servers that disappeared.</summary>
    public IReadOnlyList<string> Removed { get; }

    /// <summary>Gets the ids of servers whose definition or provenance changed.</summary>
    public IReadOnlyList<string> Updated { get; }
}
