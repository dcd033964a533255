namespace Mmcp.Testing;

/// <summary>The official npm MCP servers pinned in eng/npm (installed by eng/install-deps.sh). Compiled into each test project that needs it.</summary>
internal static class NpmServers
{
    /// <summary>The entry script of <c>@modelcontextprotocol/&lt;package&gt;</c>, run with <c>node</c>.</summary>
    public static string Script(string package)
    {
        var script = Path.Combine(RepoRoot(), "eng", "npm", "node_modules", "@modelcontextprotocol", package, "dist", "index.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"@modelcontextprotocol/{package} is not installed ({script} is missing). Run ./eng/install-deps.sh from the repository root, then run the tests again.");
        }

        return script;
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Atlas.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"The repository root (with Atlas.slnx) is not above {AppContext.BaseDirectory}.");
    }
}
