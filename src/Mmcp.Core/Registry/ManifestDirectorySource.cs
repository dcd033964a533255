using System.Collections.Concurrent;
using Mmcp.Core.Manifests;
using Shared.Storage;

namespace Mmcp.Core.Registry;

/// <summary>
/// A registry directory of <c>&lt;id&gt;.json</c> manifests. Parsed manifests are cached by file size and modification
/// time, so a warm re-read costs one directory listing and one <c>stat</c> per file.
/// </summary>
public sealed class ManifestDirectorySource : IServerSource
{
    private readonly ConcurrentDictionary<string, CachedFile> _cache = new(StringComparer.Ordinal);

    /// <summary>Initializes a new instance of the <see cref="ManifestDirectorySource"/> class.</summary>
    /// <param name="directory">The directory (it need not exist yet).</param>
    public ManifestDirectorySource(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>Gets the directory.</summary>
    public string Directory { get; }

    /// <inheritdoc/>
    public ServerSourceKind Kind => ServerSourceKind.ManifestDirectory;

    /// <inheritdoc/>
    public string DisplayName => Directory;

    /// <inheritdoc/>
    public IReadOnlyList<string> WatchPaths => [Directory];

    /// <inheritdoc/>
    public ValueTask<SourceReadResult> ReadAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(cancellationToken));

    /// <summary>Reads the directory synchronously (discovery is a handful of small file reads).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The manifests and diagnostics.</returns>
    public SourceReadResult Read(CancellationToken cancellationToken = default)
    {
        FileInfo[] files;
        var readAt = FileStamp.ReadTime; // before the listing stats the files (FileStamp.KeepFor)
        try
        {
            var dir = new DirectoryInfo(Directory);
            if (!dir.Exists)
            {
                _cache.Clear();
                return SourceReadResult.Empty;
            }

            files = dir.GetFiles("*.json", new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new SourceReadResult([], [new ManifestDiagnostic(Directory, string.Empty, $"cannot be listed: {ex.Message}")]);
        }

        Array.Sort(files, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var servers = new List<SourcedManifest>(files.Length);
        var diagnostics = new List<ManifestDiagnostic>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.Name.StartsWith('.'))
            {
                continue; // temporary files of atomic writes
            }

            live.Add(file.FullName);
            var result = ReadCached(file, readAt);
            diagnostics.AddRange(result.Diagnostics);
            if (result.Manifest is not { } manifest)
            {
                continue;
            }

            var expectedName = manifest.Id + ".json";
            if (!string.Equals(file.Name, expectedName, StringComparison.Ordinal))
            {
                diagnostics.Add(new ManifestDiagnostic(file.FullName, "id", $"is '{manifest.Id}' but the file is named '{file.Name}'; rename the file to '{expectedName}'", DiagnosticSeverity.Warning));
            }

            if (seen.TryGetValue(manifest.Id, out var first))
            {
                diagnostics.Add(new ManifestDiagnostic(file.FullName, "id", $"'{manifest.Id}' is already defined by {first}; this file is ignored"));
                continue;
            }

            seen.Add(manifest.Id, file.FullName);
            servers.Add(new SourcedManifest(manifest, new ServerProvenance(ServerSourceKind.ManifestDirectory, file.FullName)));
        }

        foreach (var stale in _cache.Keys.Where(k => !live.Contains(k)).ToList())
        {
            _cache.TryRemove(stale, out _);
        }

        return new SourceReadResult(servers, diagnostics);
    }

    private ManifestReadResult ReadCached(FileInfo file, DateTime readAt)
    {
        var stamp = FileStamp.Of(file);
        if (_cache.TryGetValue(file.FullName, out var cached) && cached.Stamp == stamp)
        {
            return cached.Result;
        }

        var result = file.Length > ManifestReader.MaxManifestBytes
            ? ManifestReader.Fail(file.FullName, $"the file is {file.Length} bytes; manifests are limited to {ManifestReader.MaxManifestBytes} bytes")
            : ManifestReader.ReadFile(file.FullName);
        _cache[file.FullName] = new CachedFile(stamp.KeepFor(readAt), result);
        return result;
    }

    private sealed record CachedFile(FileStamp Stamp, ManifestReadResult Result);
}
