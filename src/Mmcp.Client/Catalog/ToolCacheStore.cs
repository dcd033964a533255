using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Mmcp.Client.Storage;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Catalog;

/// <summary>
/// The last live tool list of each server, kept in <c>$XDG_CACHE_HOME/mmcp/tools/&lt;id&gt;.json</c> so a new hub can
/// list a cold-starting server's tools at once. An entry is only used for the exact definition it was made for.
/// </summary>
internal sealed partial class ToolCacheStore
{
    private const int FormatVersion = 1;
    private const long MaxFileBytes = 4 << 20;
    private readonly string? _directory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _pendingLock = new();
    private readonly HashSet<Task> _pending = [];

    public ToolCacheStore(string? directory, ILogger logger, TimeProvider time)
    {
        _directory = directory;
        _logger = logger;
        _time = time;
    }

    public static string DefaultDirectory(MmcpEnvironment environment)
    {
        var cacheHome = environment.Get("XDG_CACHE_HOME") is { } c && Path.IsPathRooted(c) ? c : Path.Combine(environment.HomeDirectory, ".cache");
        return Path.Combine(cacheHome, "mmcp", "tools");
    }

    public IReadOnlyList<Tool>? TryLoad(ServerManifest manifest)
    {
        if (_directory is null)
        {
            return null;
        }

        var path = PathFor(manifest.Id);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxFileBytes)
            {
                return null;
            }

            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.Number || format.GetInt32() != FormatVersion
                || !root.TryGetProperty("fingerprint", out var fingerprint) || fingerprint.GetString() != Fingerprint(manifest)
                || !root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var typeInfo = McpJsonUtilities.GetTypeInfo<Tool>(McpJsonUtilities.DefaultOptions);
            var result = new List<Tool>();
            foreach (var item in tools.EnumerateArray())
            {
                if (item.Deserialize(typeInfo) is { Name.Length: > 0 } tool)
                {
                    result.Add(tool);
                }
            }

            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
            Log.CacheUnreadable(_logger, path, ex);
            return null;
        }
    }

    /// <summary>Saves in the background; <see cref="FlushAsync"/> waits for every pending save.</summary>
    public void Save(ServerManifest manifest, IReadOnlyList<Tool> tools)
    {
        if (_directory is null)
        {
            return;
        }

        Track(SaveAsync(manifest, tools));
    }

    public Task FlushAsync()
    {
        lock (_pendingLock)
        {
            return Task.WhenAll(_pending);
        }
    }

    public async Task SaveAsync(ServerManifest manifest, IReadOnlyList<Tool> tools)
    {
        if (_directory is null)
        {
            return;
        }

        var path = PathFor(manifest.Id);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            RegistryPaths.EnsurePrivateDirectory(_directory);
            var typeInfo = McpJsonUtilities.GetTypeInfo<Tool>(McpJsonUtilities.DefaultOptions);
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, useAsync: true);
            await using (stream.ConfigureAwait(false))
            {
                var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
                await using (writer.ConfigureAwait(false))
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("format", FormatVersion);
                    writer.WriteString("serverId", manifest.Id);
                    writer.WriteString("fingerprint", Fingerprint(manifest));
                    writer.WriteString("savedAt", _time.GetUtcNow());
                    writer.WriteStartArray("tools");
                    foreach (var tool in tools)
                    {
                        JsonSerializer.Serialize(writer, tool, typeInfo);
                    }

                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            Log.CacheNotSaved(_logger, path, ex);
            PrivateFile.TryDelete(temp);
        }
    }

    /// <summary>Deletes a server's cached list in the background (the server refused this client: its tools are not to
    /// be listed from before); the hub's disposal waits for it, as for a save.</summary>
    public void Forget(string serverId)
    {
        if (_directory is null)
        {
            return;
        }

        var path = PathFor(serverId);
        Track(Task.Run(() =>
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.CacheNotDeleted(_logger, path, ex);
            }
        }));
    }

    /// <summary>Identifies a definition: a changed command, URL, version or snapshot makes the old entry unusable.</summary>
    public static string Fingerprint(ServerManifest manifest) => Convert.ToHexStringLower(SHA256.HashData(ManifestWriter.ToUtf8Bytes(manifest)).AsSpan(0, 16));

    /// <summary>Keeps a write until it ends, so <see cref="FlushAsync"/> waits for it.</summary>
    private void Track(Task task)
    {
        lock (_pendingLock)
        {
            _pending.Add(task);
        }

        _ = task.ContinueWith(
            (t, state) =>
            {
                var self = (ToolCacheStore)state!;
                lock (self._pendingLock)
                {
                    self._pending.Remove(t);
                }
            },
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private string PathFor(string serverId) => Path.Combine(_directory!, serverId + ".json");

    private static partial class Log
    {
        [LoggerMessage(3201, LogLevel.Debug, "Ignoring the unreadable tool cache {Path}")]
        public static partial void CacheUnreadable(ILogger logger, string path, Exception exception);

        [LoggerMessage(3202, LogLevel.Warning, "Could not save the tool cache {Path}")]
        public static partial void CacheNotSaved(ILogger logger, string path, Exception exception);

        [LoggerMessage(3203, LogLevel.Warning, "Could not delete the tool cache {Path} of a server that refused this client")]
        public static partial void CacheNotDeleted(ILogger logger, string path, Exception exception);
    }
}
