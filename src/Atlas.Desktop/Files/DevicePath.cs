using System.Text;
using Atlas.Client;
using Atlas.Client.Protocol;

namespace Atlas.Desktop.Files;

/// <summary>Normalizes and resolves paths inside a device's namespace so that nothing escapes its root.</summary>
/// <remarks>
/// Refused: absolute paths, <c>..</c> and <c>.</c> segments, backslashes (Windows separators, UNC and device paths),
/// colons (drive letters, alternate data streams), NUL and control characters, bidirectional controls (U+202A–U+202E,
/// U+2066–U+2069, U+200E/U+200F: they make "evil\u202Egnp.exe" display as "evilexe.png"; the zero-width joiner of emoji
/// sequences stays allowed), text that is not valid Unicode, names over 255 bytes, paths over 1024
/// characters or 32 levels, Windows reserved names, trailing dots or spaces, and Atlas's own temporary names. The
/// resolved path must lie under the root followed by a separator (so <c>device-1</c> never matches <c>device-10</c>),
/// and no existing component may be a symbolic link.
/// </remarks>
internal static class DevicePath
{
    public const int MaxSegmentBytes = 255;
    public const int MaxPathChars = 1024;
    public const int MaxDepth = 32;
    public const string TempPrefix = ".atlas-";

    private static readonly string[] Reserved =
        ["CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
         "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9"];

    /// <summary>Returns the canonical relative path (<c>a/b.txt</c>; empty for the root).</summary>
    public static string Normalize(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "/")
        {
            return "";
        }

        if (path.Length > MaxPathChars)
        {
            throw Invalid(path, $"it is longer than {MaxPathChars} characters");
        }

        for (var i = 0; i < path.Length; i++)
        {
            if (char.IsHighSurrogate(path[i]) && i + 1 < path.Length && char.IsLowSurrogate(path[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(path[i]))
            {
                // No Unicode text, and no name a phone can show.
                throw Invalid(path, "it is not valid Unicode text");
            }
        }

        foreach (var c in path)
        {
            if (char.IsControl(c))
            {
                throw Invalid(path, "it contains NUL or a control character");
            }

            if (IsBidiControl(c))
            {
                throw Invalid(path, "it contains a bidirectional control character, which can make a name display as another");
            }

            if (c == '\\')
            {
                throw Invalid(path, "backslashes are not separators here; use '/'");
            }

            if (c == ':')
            {
                throw Invalid(path, "colons (drive letters, alternate streams) are not allowed");
            }
        }

        if (path[0] == '/')
        {
            throw Invalid(path, "absolute paths are not allowed; paths are relative to the device's own folder");
        }

        var trimmed = path.EndsWith('/') ? path[..^1] : path;
        var segments = trimmed.Split('/');
        if (segments.Length > MaxDepth)
        {
            throw Invalid(path, $"it is deeper than {MaxDepth} levels");
        }

        foreach (var segment in segments)
        {
            if (segment.Length == 0)
            {
                throw Invalid(path, "it has an empty segment ('//')");
            }

            if (segment is "." or "..")
            {
                throw Invalid(path, "'.' and '..' segments are not allowed");
            }

            if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes)
            {
                throw Invalid(path, $"a name is longer than {MaxSegmentBytes} bytes");
            }

            if (segment.EndsWith('.') || segment.EndsWith(' ') || segment.StartsWith(' '))
            {
                throw Invalid(path, "names may not start with a space or end with a dot or space");
            }

            if (segment.StartsWith(TempPrefix, StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid(path, $"names starting with '{TempPrefix}' are reserved");
            }

            var stem = segment.Split('.')[0];
            if (Reserved.Contains(stem, StringComparer.OrdinalIgnoreCase))
            {
                throw Invalid(path, $"'{segment}' is a reserved device name on Windows");
            }
        }

        return string.Join('/', segments);
    }

    /// <summary>Resolves a canonical relative path under <paramref name="root"/>, refusing anything outside it and any
    /// symbolic link on the way.</summary>
    public static string Resolve(string root, string relative)
    {
        var full = Path.GetFullPath(relative.Length == 0 ? root : Path.Combine(root, relative));
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (full != root && !full.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw Invalid(relative, "it resolves outside the device's folder");
        }

        // Walk every existing component: a link planted inside the namespace must not lead out of it.
        var current = root;
        if (IsLink(current))
        {
            throw Invalid(relative, "the device folder is a symbolic link");
        }

        if (relative.Length > 0)
        {
            foreach (var segment in relative.Split('/'))
            {
                current = Path.Combine(current, segment);
                if (IsLink(current))
                {
                    throw Invalid(relative, "it goes through a symbolic link, which is never followed");
                }
            }
        }

        return full;
    }

    private static bool IsLink(string path)
    {
        FileSystemInfo info = new FileInfo(path);
        if (!info.Exists)
        {
            info = new DirectoryInfo(path);
            if (!info.Exists)
            {
                return new FileInfo(path).LinkTarget is not null; // a dangling link
            }
        }

        return info.LinkTarget is not null || info.Attributes.HasFlag(FileAttributes.ReparsePoint);
    }

    private static bool IsBidiControl(char c) => c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u200E' or '\u200F';

    private static AtlasException Invalid(string path, string reason) =>
        new(ErrorCodes.InvalidPath, $"The path '{Printable(path)}' is not allowed: {reason}.");

    private static string Printable(string path)
    {
        var shown = path.Length > 80 ? path[..80] + "…" : path;
        return new string(shown.Select(c => char.IsControl(c) || IsBidiControl(c) ? '?' : c).ToArray());
    }
}
