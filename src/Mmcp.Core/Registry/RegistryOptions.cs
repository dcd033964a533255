using Mmcp.Core.Registry.Imports;

namespace Mmcp.Core.Registry;

/// <summary>Which sources the default registry reads.</summary>
public sealed class RegistryOptions
{
    /// <summary>Gets or sets the environment. The default is the current process's.</summary>
    public MmcpEnvironment Environment { get; set; } = MmcpEnvironment.Process;

    /// <summary>Gets or sets explicit registry directories, replacing <c>MMCP_REGISTRY_PATH</c> and the XDG defaults. The default is <see langword="null"/>.</summary>
    public IList<string>? RegistryDirectories { get; set; }

    /// <summary>Gets or sets a value indicating whether Claude Desktop, VS Code and Cursor configurations are imported (read only). The default is <see langword="true"/>.</summary>
    public bool ImportClientConfigs { get; set; } = true;

    /// <summary>Gets or sets the workspace folders whose <c>.vscode/mcp.json</c> and <c>.cursor/mcp.json</c> are imported. The default is the working directory.</summary>
    public IList<string>? WorkspaceFolders { get; set; }

    /// <summary>Gets or sets the MCP Registry <c>server.json</c> files or directories to import. The default is <c>$XDG_DATA_HOME/mmcp/registry-servers</c>.</summary>
    public IList<string>? ServerJsonPaths { get; set; }

    /// <summary>Gets or sets how often watched sources are also polled (to notice directories created after watching began). The default is 5 seconds.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long to wait after a file change before re-reading, so bursts of writes cause one refresh. The default is 100 ms.</summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Builds the sources in precedence order (first wins).</summary>
    /// <returns>The sources.</returns>
    /// <remarks>
    /// Order: registry directories; then, when importing, each workspace's <c>.vscode/mcp.json</c> and
    /// <c>.cursor/mcp.json</c>; Claude Desktop; VS Code's user <c>mcp.json</c>; Cursor's <c>~/.cursor/mcp.json</c>;
    /// then MCP Registry <c>server.json</c> files.
    /// </remarks>
    public IReadOnlyList<IServerSource> CreateSources()
    {
        var env = Environment;
        var sources = new List<IServerSource>();
        IEnumerable<string> dirs = RegistryDirectories is { Count: > 0 } explicitDirs ? explicitDirs : RegistryPaths.GetRegistryDirectories(env);
        sources.AddRange(dirs.Select(d => new ManifestDirectorySource(d)));
        if (!ImportClientConfigs)
        {
            return sources;
        }

        var workspaces = WorkspaceFolders ?? (env.CurrentDirectory is { } cwd ? [cwd] : []);
        foreach (var workspace in workspaces.Distinct(StringComparer.Ordinal))
        {
            sources.Add(new ClientConfigSource(ServerSourceKind.VsCode, Path.Combine(workspace, ".vscode", "mcp.json"), env.HomeDirectory, workspace));
            sources.Add(new ClientConfigSource(ServerSourceKind.Cursor, Path.Combine(workspace, ".cursor", "mcp.json"), env.HomeDirectory, workspace));
        }

        var userConfig = OperatingSystem.IsMacOS() ? Path.Combine(env.HomeDirectory, "Library", "Application Support")
            : OperatingSystem.IsWindows() ? env.Get("APPDATA") ?? env.ConfigHome
            : env.ConfigHome;
        sources.Add(new ClientConfigSource(ServerSourceKind.ClaudeDesktop, Path.Combine(userConfig, "Claude", "claude_desktop_config.json"), env.HomeDirectory));
        sources.Add(new ClientConfigSource(ServerSourceKind.VsCode, Path.Combine(userConfig, "Code", "User", "mcp.json"), env.HomeDirectory));
        sources.Add(new ClientConfigSource(ServerSourceKind.Cursor, Path.Combine(env.HomeDirectory, ".cursor", "mcp.json"), env.HomeDirectory));
        foreach (var path in ServerJsonPaths ?? [Path.Combine(env.DataHome, "mmcp", "registry-servers")])
        {
            sources.Add(new McpRegistrySource(path));
        }

        return sources;
    }
}
