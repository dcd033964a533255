using ModelContextProtocol;

namespace FileManagerServer;

/// <summary>The one folder this app shares; every path is resolved inside it, symbolic links included.</summary>
public sealed class FileRoot
{
    public FileRoot(string path)
    {
        Path = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));
        if (!Directory.Exists(Path))
        {
            throw new DirectoryNotFoundException($"The shared root '{Path}' does not exist. Set FILEMANAGER_ROOT or pass --root DIR.");
        }
    }

    public string Path { get; }

    /// <summary>Resolves a path relative to the root (or, with <paramref name="absolute"/>, an absolute path that must lie inside it).</summary>
    public string Resolve(string path, bool absolute = false)
    {
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new McpException("Paths must not contain NUL characters.");
        }

        var full = absolute
            ? System.IO.Path.GetFullPath(path.StartsWith('/') ? path : "/" + path)
            : System.IO.Path.GetFullPath(System.IO.Path.Join(Path, path));
        if (EscapesRoot(full))
        {
            throw new McpException($"'{path}' is outside the shared root.");
        }

        return full;
    }

    /// <summary>Whether a full path, after following symbolic links, lies outside the root.</summary>
    public bool EscapesRoot(string fullPath)
    {
        if (!IsUnder(fullPath))
        {
            return true;
        }

        // Follow links component by component from the root, so a link anywhere on the way cannot lead out.
        var current = Path;
        foreach (var part in System.IO.Path.GetRelativePath(Path, fullPath).Split(System.IO.Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }

            current = System.IO.Path.Join(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target is null || !IsUnder(target.FullName))
                {
                    return true;
                }

                current = target.FullName;
            }
        }

        return false;
    }

    private bool IsUnder(string fullPath) =>
        string.Equals(fullPath, Path, StringComparison.Ordinal) || fullPath.StartsWith(Path + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
