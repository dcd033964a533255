using Mmcp.Core.Manifests;

namespace Mmcp.Core.Registry;

/// <summary>Where a server definition comes from.</summary>
public enum ServerSourceKind
{
    /// <summary>Registered in code through the hub's API.</summary>
    Programmatic,

    /// <summary>A manifest file in a registry directory.</summary>
    ManifestDirectory,

    /// <summary>A VS Code <c>mcp.json</c> (<c>servers</c>, <c>inputs</c>), in a workspace or the user profile.</summary>
    VsCode,

    /// <summary>A Cursor <c>mcp.json</c> (<c>mcpServers</c>), in a project or the user's home.</summary>
    Cursor,

    /// <summary>Claude Desktop's <c>claude_desktop_config.json</c> (<c>mcpServers</c>).</summary>
    ClaudeDesktop,

    /// <summary>An MCP Registry <c>server.json</c>.</summary>
    McpRegistry,
}

/// <summary>Where one server definition was found.</summary>
/// <param name="Kind">The kind of source.</param>
/// <param name="Location">The file (or other location) it was read from.</param>
/// <param name="Key">The key inside that file (for example the name under <c>mcpServers</c>), or <see langword="null"/>.</param>
public sealed record ServerProvenance(ServerSourceKind Kind, string Location, string? Key = null)
{
    /// <inheritdoc/>
    public override string ToString()
    {
        var kind = Kind switch
        {
            ServerSourceKind.Programmatic => "code",
            ServerSourceKind.ManifestDirectory => "manifest",
            ServerSourceKind.VsCode => "VS Code",
            ServerSourceKind.Cursor => "Cursor",
            ServerSourceKind.ClaudeDesktop => "Claude Desktop",
            ServerSourceKind.McpRegistry => "MCP Registry server.json",
            _ => Kind.ToString(),
        };
        return Key is null ? $"{kind} {Location}" : $"{kind} {Location} ({Key})";
    }
}

/// <summary>What one source yielded: server definitions with provenance, and the problems found.</summary>
public sealed class SourceReadResult
{
    /// <summary>Initializes a new instance of the <see cref="SourceReadResult"/> class.</summary>
    /// <param name="servers">The server definitions, in the source's own order.</param>
    /// <param name="diagnostics">The problems found.</param>
    public SourceReadResult(IReadOnlyList<SourcedManifest> servers, IReadOnlyList<ManifestDiagnostic> diagnostics)
    {
        Servers = servers;
        Diagnostics = diagnostics;
    }

    /// <summary>Gets an empty result.</summary>
    public static SourceReadResult Empty { get; } = new([], []);

    /// <summary>Gets the server definitions.</summary>
    public IReadOnlyList<SourcedManifest> Servers { get; }

    /// <summary>Gets the problems found.</summary>
    public IReadOnlyList<ManifestDiagnostic> Diagnostics { get; }
}

/// <summary>A manifest and where it came from.</summary>
/// <param name="Manifest">The manifest.</param>
/// <param name="Provenance">Where it was found.</param>
public sealed record SourcedManifest(ServerManifest Manifest, ServerProvenance Provenance);

/// <summary>
/// A place server definitions come from. The desktop implementations read files; a mobile platform would query its
/// package manager (Android <c>queryIntentServices</c>) behind the same interface.
/// </summary>
public interface IServerSource
{
    /// <summary>Gets the kind of source.</summary>
    ServerSourceKind Kind { get; }

    /// <summary>Gets a short description for diagnostics (usually a path).</summary>
    string DisplayName { get; }

    /// <summary>Gets the files or directories whose changes may change what this source yields.</summary>
    IReadOnlyList<string> WatchPaths { get; }

    /// <summary>Reads the source. Problems are reported in the result, never thrown.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The definitions and diagnostics.</returns>
    ValueTask<SourceReadResult> ReadAsync(CancellationToken cancellationToken = default);
}
