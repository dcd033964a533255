using System.Collections.Concurrent;

namespace Atlas.Media.Processes;

/// <summary>Finds external programs on <c>PATH</c> and names the Debian package to install when one is missing.</summary>
internal static class ToolLocator
{
    private static readonly ConcurrentDictionary<string, string?> Found = new(StringComparer.Ordinal);

    private static readonly Dictionary<string, string> Packages = new(StringComparer.Ordinal)
    {
        ["tesseract"] = "tesseract-ocr tesseract-ocr-eng",
        ["ffmpeg"] = "ffmpeg",
        ["ffprobe"] = "ffmpeg",
        ["pocketsphinx_continuous"] = "pocketsphinx pocketsphinx-en-us",
        ["zbarimg"] = "zbar-tools",
        ["prlimit"] = "util-linux",
    };

    /// <summary>The absolute path of <paramref name="tool"/>, or null when it is not installed.</summary>
    public static string? TryFind(string tool) => Found.GetOrAdd(tool, Search);

    /// <summary>The absolute path of <paramref name="tool"/>, or a <see cref="MediaException"/> naming what to install.</summary>
    public static string Find(string tool) =>
        TryFind(tool) ?? throw new MediaException(MediaErrorCode.ToolMissing, $"{tool} is not installed. {InstallHint(tool)}");

    public static string InstallHint(string tool) =>
        Packages.TryGetValue(tool, out var package)
            ? $"Install it with: sudo apt-get install -y {package} (or run eng/install-deps.sh)."
            : $"Install {tool} and make sure it is on PATH.";

    private static string? Search(string tool)
    {
        if (Path.IsPathFullyQualified(tool))
        {
            return File.Exists(tool) ? tool : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0))
            {
                return candidate;
            }
        }

        return null;
    }
}
