namespace Atlas.Testing;

/// <summary>The official npm MCP servers pinned in eng/npm (installed by eng/install-deps.sh).</summary>
public static class NpmServers
{
    /// <summary>The entry script of <c>@modelcontextprotocol/&lt;package&gt;</c>, run with <c>node</c>.</summary>
    public static string Script(string package)
    {
        var script = Path.Combine(Repository.Root, "eng", "npm", "node_modules", "@modelcontextprotocol", package, "dist", "index.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"@modelcontextprotocol/{package} is not installed ({script} is missing). Run ./eng/install-deps.sh from the repository root, then run the tests again.");
        }

        return script;
    }
}
