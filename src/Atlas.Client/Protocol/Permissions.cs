namespace Atlas.Client.Protocol;

/// <summary>Per-device permission names.</summary>
public static class Permissions
{
    /// <summary>Chat with the desktop's LLM.</summary>
    public const string Chat = "chat";

    /// <summary>List, stat and read files in the device's namespace.</summary>
    public const string FilesRead = "files.read";

    /// <summary>Write, upload, create, move and delete files in the device's namespace.</summary>
    public const string FilesWrite = "files.write";

    /// <summary>Submit media for processing.</summary>
    public const string MediaProcess = "media.process";

    /// <summary>Let the LLM use the hub's MCP tools (all servers); <c>tools:&lt;serverId&gt;</c> grants one server.</summary>
    public const string Tools = "tools";

    /// <summary>The prefix of a per-server tools grant.</summary>
    public const string ToolsServerPrefix = "tools:";

    /// <summary>The fixed permission names, in a stable order.</summary>
    public static IReadOnlyList<string> All { get; } = [Chat, FilesRead, FilesWrite, MediaProcess, Tools];

    /// <summary>Whether <paramref name="permission"/> is a known permission or a well-formed per-server tools grant.</summary>
    /// <param name="permission">The permission name.</param>
    /// <returns><see langword="true"/> when the name is valid.</returns>
    public static bool IsValid(string permission)
    {
        ArgumentNullException.ThrowIfNull(permission);
        if (All.Contains(permission, StringComparer.Ordinal))
        {
            return true;
        }

        if (!permission.StartsWith(ToolsServerPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var server = permission.AsSpan(ToolsServerPrefix.Length);
        if (server.IsEmpty || server.Length > 128)
        {
            return false;
        }

        foreach (var c in server)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
