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

    /// <summary>
    /// Gets the id this definition was written with, when another definition of higher precedence took that id and
    /// this one is listed under a suffixed id instead (for example <c>weather.claude-desktop</c>); otherwise <see langword="null"/>.
    /// </summary>
    public string? ShadowedBy { get; init; }

    /// <summary>Gets other ids that also reach this server: its stable suffixed id, and the ids of identical entries folded into it.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>Gets identical definitions found in client configurations of lower precedence, folded into this server rather than listed again.</summary>
    public IReadOnlyList<ServerProvenance> Duplicates { get; init; } = [];
}

/// <summary>What became of one definition found in a source.</summary>
public enum DefinitionRole
{
    /// <summary>It is the server with its own id.</summary>
    Listed,

    /// <summary>Another definition of higher precedence has its id; it is listed under its stable suffixed id.</summary>
    Alternate,

    /// <summary>It is identical to a definition of higher precedence and is reached through that server.</summary>
    Duplicate,

    /// <summary>A manifest of higher precedence with the same id replaces it (an override); it cannot be reached.</summary>
    Overridden,
}

/// <summary>One definition as found in a source, and which server (if any) serves it.</summary>
/// <param name="DefinedId">The id it was written with (a client configuration's key, normalised).</param>
/// <param name="Provenance">Where it was found.</param>
/// <param name="Role">What became of it.</param>
/// <param name="ServerId">The id of the server that serves it, or <see langword="null"/> when it is <see cref="DefinitionRole.Overridden"/>.</param>
/// <param name="StableId">
/// For an entry of a client configuration or <c>server.json</c>: <c>&lt;id&gt;.&lt;source&gt;</c> (for example
/// <c>weather.claude-desktop</c>), which reaches this definition whichever entry wins the plain id; otherwise <see langword="null"/>.
/// </param>
public sealed record ServerDefinition(string DefinedId, ServerProvenance Provenance, DefinitionRole Role, string? ServerId, string? StableId);

/// <summary>The merged result of reading every source at one moment.</summary>
public sealed class RegistrySnapshot
{
    private readonly FrozenDictionary<string, DiscoveredServer> _byId;
    private readonly FrozenDictionary<string, DiscoveredServer> _byAlias;

    internal RegistrySnapshot(IReadOnlyList<DiscoveredServer> servers, IReadOnlyList<ManifestDiagnostic> diagnostics, long version, IReadOnlyList<ServerDefinition>? definitions = null)
    {
        Servers = servers;
        Diagnostics = diagnostics;
        Version = version;
        Definitions = definitions ?? [];
        _byId = servers.ToFrozenDictionary(s => s.Id, StringComparer.Ordinal);
        var aliases = new Dictionary<string, DiscoveredServer>(StringComparer.Ordinal);
        foreach (var server in servers)
        {
            foreach (var alias in server.Aliases)
            {
                if (!_byId.ContainsKey(alias))
                {
                    aliases.TryAdd(alias, server);
                }
            }
        }

        _byAlias = aliases.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Gets an empty snapshot.</summary>
    public static RegistrySnapshot Empty { get; } = new([], [], 0);

    /// <summary>Gets every definition found, in precedence order, with what became of it (listed, listed under a suffixed id, folded into an identical one, or overridden).</summary>
    public IReadOnlyList<ServerDefinition> Definitions { get; }

    /// <summary>Gets the servers, ordered by id.</summary>
    public IReadOnlyList<DiscoveredServer> Servers { get; }

    /// <summary>Gets every problem found in every source (invalid manifests are reported here, not thrown).</summary>
    public IReadOnlyList<ManifestDiagnostic> Diagnostics { get; }

    /// <summary>Gets a number that grows each time the set of servers changes.</summary>
    public long Version { get; }

    /// <summary>Finds a server by id, or by one of its <see cref="DiscoveredServer.Aliases"/> (a real id always wins over an alias).</summary>
    /// <param name="id">The server id or alias.</param>
    /// <returns>The server, or <see langword="null"/>.</returns>
    public DiscoveredServer? Find(string id) => _byId.GetValueOrDefault(id) ?? _byAlias.GetValueOrDefault(id);

    /// <summary>Finds a server by its own id only.</summary>
    internal DiscoveredServer? FindById(string id) => _byId.GetValueOrDefault(id);
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
