namespace Atlas.Media.Mcp;

/// <summary>
/// Decides whether an MCP caller may read a file: the path must be absolute, free of NUL, and — after every symbolic
/// link in it is resolved — inside one of <see cref="AtlasMediaOptions.AllowedRoots"/> (also resolved). Prefix checks
/// are made on whole path segments, so <c>/data/photos-evil</c> is not inside <c>/data/photos</c>.
/// </summary>
internal sealed class FileAccessPolicy
{
    private readonly List<string> _roots;

    public FileAccessPolicy(IEnumerable<string> roots)
    {
        _roots = roots.Select(r => Resolve(Path.GetFullPath(r)) ?? Path.GetFullPath(r)).Select(r => r.TrimEnd('/')).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The resolved real path of an allowed regular file, or a <see cref="MediaException"/> saying why not.</summary>
    public string Authorize(string path)
    {
        if (string.IsNullOrWhiteSpace(path) || path.Contains('\0', StringComparison.Ordinal) || path.Length > 4096)
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, "The path is empty, too long or contains a NUL character.");
        }

        if (!Path.IsPathFullyQualified(path))
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, $"'{path}' is not an absolute path; give the full path of the file.");
        }

        if (_roots.Count == 0)
        {
            throw new MediaException(MediaErrorCode.AccessDenied, "No directories are shared with MCP clients (Atlas:Media:AllowedRoots is empty).");
        }

        var real = Resolve(Path.GetFullPath(path));
        if (real is not null && Directory.Exists(real))
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, $"'{path}' is a directory; give the path of a file in it.");
        }

        if (real is null || !File.Exists(real))
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, $"The file '{path}' does not exist.");
        }

        if (!_roots.Any(root => real.StartsWith(root + "/", StringComparison.Ordinal)))
        {
            throw new MediaException(MediaErrorCode.AccessDenied,
                $"'{path}' is outside the shared directories ({string.Join(", ", _roots)}); it may not be read.");
        }

        return real;
    }

    /// <summary>Resolves every symbolic link along the path (like realpath), or null when a component is missing.</summary>
    private static string? Resolve(string fullPath)
    {
        var parts = fullPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = "/";
        var hops = 0;
        var queue = new Queue<string>(parts);
        while (queue.Count > 0)
        {
            var part = queue.Dequeue();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }

            var next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (!info.Exists)
            {
                return null;
            }

            if (info.LinkTarget is { } target)
            {
                if (++hops > 40)
                {
                    return null;
                }

                var targetFull = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
                var rest = queue.ToArray();
                queue = new Queue<string>(targetFull.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(rest));
                current = "/";
                continue;
            }

            current = next;
        }

        return current;
    }
}
