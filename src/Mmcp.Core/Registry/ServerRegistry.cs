using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mmcp.Core.Manifests;

namespace Mmcp.Core.Registry;

/// <summary>
/// Reads every source, merges them by precedence (the first source that defines an id wins; later definitions are
/// kept as <see cref="DiscoveredServer.Shadowed"/>), and optionally watches them for changes.
/// </summary>
/// <remarks>Invalid manifests never fail discovery: they are reported in <see cref="RegistrySnapshot.Diagnostics"/>.</remarks>
public sealed partial class ServerRegistry : IAsyncDisposable
{
    private readonly IServerSource[] _sources;
    private readonly ProgrammaticSource _programmatic = new();
    private readonly RegistryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private readonly ConcurrentDictionary<string, FileSystemWatcher> _watchers = new(StringComparer.Ordinal);
    private readonly Lock _timerLock = new();
    private volatile RegistrySnapshot _current = RegistrySnapshot.Empty;
    private ITimer? _pollTimer;
    private ITimer? _debounceTimer;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="ServerRegistry"/> class over explicit sources.</summary>
    /// <param name="sources">The sources in precedence order (first wins). Servers added with <see cref="AddServer"/> come before all of them.</param>
    /// <param name="options">Watching settings; the default is <see cref="RegistryOptions"/>'s defaults.</param>
    /// <param name="timeProvider">The clock for debouncing and polling.</param>
    /// <param name="logger">The logger.</param>
    public ServerRegistry(IEnumerable<IServerSource> sources, RegistryOptions? options = null, TimeProvider? timeProvider = null, ILogger<ServerRegistry>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        _sources = [_programmatic, .. sources];
        _options = options ?? new RegistryOptions();
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Creates a registry over the default sources described by <paramref name="options"/>.</summary>
    /// <param name="options">The options; the default reads the XDG registry directories and imports client configurations.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger.</param>
    /// <returns>The registry (not yet read: call <see cref="RefreshAsync"/>).</returns>
    public static ServerRegistry Create(RegistryOptions? options = null, TimeProvider? timeProvider = null, ILogger<ServerRegistry>? logger = null)
    {
        options ??= new RegistryOptions();
        return new ServerRegistry(options.CreateSources(), options, timeProvider, logger);
    }

    /// <summary>Raised after a refresh that changed the set of servers or a definition.</summary>
    public event EventHandler<RegistryChangedEventArgs>? Changed;

    /// <summary>Gets the sources in precedence order, starting with the programmatic one.</summary>
    public IReadOnlyList<IServerSource> Sources => _sources;

    /// <summary>Gets the latest snapshot (empty until the first <see cref="RefreshAsync"/>).</summary>
    public RegistrySnapshot Current => _current;

    /// <summary>Registers a server in code, ahead of every other source. Takes effect at the next refresh.</summary>
    /// <param name="manifest">The server.</param>
    public void AddServer(ServerManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (!ServerIds.IsValidServerId(manifest.Id))
        {
            throw new ArgumentException($"'{manifest.Id}' is not a valid server id: use lower-case letters, digits, '.', '-' and '_', without '__'.", nameof(manifest));
        }

        _programmatic.Set(manifest);
    }

    /// <summary>Removes a server registered in code. Takes effect at the next refresh.</summary>
    /// <param name="id">The server id.</param>
    /// <returns><see langword="true"/> when it was registered.</returns>
    public bool RemoveServer(string id) => _programmatic.Remove(id);

    /// <summary>Reads every source now and publishes a new snapshot; raises <see cref="Changed"/> when something changed.</summary>
    /// <param name="cancellationToken">Cancels the refresh.</param>
    /// <returns>The new snapshot.</returns>
    public async ValueTask<RegistrySnapshot> RefreshAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _refreshLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        RegistryChangedEventArgs? change;
        try
        {
            var previous = _current;
            var results = new SourceReadResult[_sources.Length];
            for (var i = 0; i < _sources.Length; i++)
            {
                try
                {
                    results[i] = await _sources[i].ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A source must not take discovery down; report it like any other problem.
                    results[i] = new SourceReadResult([], [new ManifestDiagnostic(_sources[i].DisplayName, string.Empty, $"could not be read: {ex.Message}")]);
                }
            }

            var next = Merge(_sources, results, previous);
            change = Diff(previous, next);
            if (change is null)
            {
                // Same servers: keep the old version number but publish the fresh diagnostics.
                _current = new RegistrySnapshot(next.Servers, next.Diagnostics, previous.Version, next.Definitions);
                return _current;
            }

            _current = next;
        }
        finally
        {
            _refreshLock.Release();
        }

        Log.RegistryChanged(_logger, change.Snapshot.Servers.Count, change.Added.Count, change.Removed.Count, change.Updated.Count);
        Changed?.Invoke(this, change);
        return change.Snapshot;
    }

    /// <summary>Starts watching the sources' files and directories (and polling, for paths created later). Idempotent.</summary>
    public void StartWatching()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_timerLock)
        {
            if (_pollTimer is not null)
            {
                return;
            }

            ArmWatchers();
            _pollTimer = _time.CreateTimer(_ => OnPoll(), null, _options.PollInterval, _options.PollInterval);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        lock (_timerLock)
        {
            _pollTimer?.Dispose();
            _debounceTimer?.Dispose();
        }

        foreach (var watcher in _watchers.Values)
        {
            watcher.Dispose();
        }

        _watchers.Clear();
        await _refreshLock.WaitAsync().ConfigureAwait(false);
        _refreshLock.Release();
        _refreshLock.Dispose();
    }

    /// <summary>
    /// Merges the sources' definitions in precedence order. The first definition of an id wins it. A later one with the
    /// same id and the same transport is a duplicate; one from a client configuration that differs is listed as an
    /// alternate under <c>&lt;id&gt;.&lt;source&gt;</c>; one from a manifest directory is an override and stays hidden. An
    /// entry of a client configuration with a new id but the transport of a server already listed (what
    /// <c>mmcp config import</c> writes) is folded into that server, and its id becomes an alias of it; that alias takes
    /// the name as an id would, so a later, different definition with it is an alternate too.
    /// </summary>
    private static RegistrySnapshot Merge(IServerSource[] sources, SourceReadResult[] results, RegistrySnapshot previous)
    {
        var tags = SourceTags(sources);
        var entries = new Dictionary<string, MergeEntry>(StringComparer.Ordinal);
        var byIdentity = new Dictionary<string, string>(StringComparer.Ordinal);
        // Which server each name reaches: the server with that id, or the one an entry by that name was folded into.
        var claimed = new Dictionary<string, string>(StringComparer.Ordinal);
        var definitions = new List<ServerDefinition>();
        var diagnostics = new List<ManifestDiagnostic>();
        for (var i = 0; i < results.Length; i++)
        {
            diagnostics.AddRange(results[i].Diagnostics);
            foreach (var sourced in results[i].Servers)
            {
                var id = sourced.Manifest.Id;
                var provenance = sourced.Provenance;
                var imported = IsImported(provenance.Kind);
                var stableId = imported ? Qualify(id, tags[i]) : null;
                var identity = Identity(sourced.Manifest);
                var winner = entries.GetValueOrDefault(id);
                if (winner is null && imported && byIdentity.TryGetValue(identity, out var sameId))
                {
                    var same = entries[sameId];
                    same.Duplicates.Add(provenance);
                    if (claimed.TryAdd(id, sameId))
                    {
                        same.AddAlias(id); // the first definition to use a name keeps it as an alias
                    }

                    same.AddAlias(stableId);
                    definitions.Add(new ServerDefinition(id, provenance, DefinitionRole.Duplicate, sameId, stableId));
                    continue;
                }

                // A name that is only an alias (of the manifest an entry of higher precedence was folded into) is taken
                // all the same: that entry keeps it, and this one is shadowed like by a server with that id.
                winner ??= claimed.TryGetValue(id, out var owner) ? entries[owner] : null;
                if (winner is not null)
                {
                    winner.Shadowed.Add(provenance);
                    if (identity == winner.Identity)
                    {
                        winner.Duplicates.Add(provenance);
                        winner.AddAlias(stableId);
                        definitions.Add(new ServerDefinition(id, provenance, DefinitionRole.Duplicate, winner.Manifest.Id, stableId));
                    }
                    else if (stableId is not null && !entries.ContainsKey(stableId))
                    {
                        var alternate = new MergeEntry(sourced.Manifest.WithId(stableId), provenance, identity) { ShadowedBy = id };
                        entries.Add(stableId, alternate);
                        byIdentity.TryAdd(identity, stableId);
                        definitions.Add(new ServerDefinition(id, provenance, DefinitionRole.Alternate, stableId, stableId));
                    }
                    else
                    {
                        definitions.Add(new ServerDefinition(id, provenance, DefinitionRole.Overridden, null, null));
                    }

                    continue;
                }

                var entry = new MergeEntry(sourced.Manifest, provenance, identity);
                entry.AddAlias(stableId);
                entries.Add(id, entry);
                claimed.Add(id, id);
                byIdentity.TryAdd(identity, id);
                definitions.Add(new ServerDefinition(id, provenance, DefinitionRole.Listed, id, stableId));
            }
        }

        var servers = entries.Values
            .Select(e => new DiscoveredServer(e.Manifest, e.Provenance, e.Shadowed)
            {
                ShadowedBy = e.ShadowedBy,
                Aliases = [.. e.Aliases.Where(a => !entries.ContainsKey(a))],
                Duplicates = e.Duplicates,
            })
            .OrderBy(s => s.Id, StringComparer.Ordinal)
            .ToArray();
        return new RegistrySnapshot(servers, diagnostics, previous.Version + 1, definitions);
    }

    private static bool IsImported(ServerSourceKind kind) =>
        kind is ServerSourceKind.VsCode or ServerSourceKind.Cursor or ServerSourceKind.ClaudeDesktop or ServerSourceKind.McpRegistry;

    /// <summary>
    /// Names each source for suffixed ids: <c>vscode</c> and <c>cursor</c> (a workspace's files), <c>vscode-user</c>,
    /// <c>cursor-user</c>, <c>claude-desktop</c>, <c>mcp-registry</c>; a name used by several sources gets <c>-2</c>,
    /// <c>-3</c>, … from the second on.
    /// </summary>
    /// <param name="sources">The sources in precedence order.</param>
    /// <returns>One tag per source.</returns>
    public static string[] SourceTags(IReadOnlyList<IServerSource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var tags = new string[sources.Count];
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < sources.Count; i++)
        {
            var workspace = sources[i] is Imports.ClientConfigSource { WorkspaceFolder: not null };
            var tag = sources[i].Kind switch
            {
                ServerSourceKind.Programmatic => "code",
                ServerSourceKind.ManifestDirectory => "registry",
                ServerSourceKind.VsCode => workspace ? "vscode" : "vscode-user",
                ServerSourceKind.Cursor => workspace ? "cursor" : "cursor-user",
                ServerSourceKind.ClaudeDesktop => "claude-desktop",
                ServerSourceKind.McpRegistry => "mcp-registry",
                var other => other.ToString().ToLowerInvariant(),
            };
            var count = seen[tag] = seen.GetValueOrDefault(tag) + 1;
            tags[i] = count == 1 ? tag : $"{tag}-{count}";
        }

        return tags;
    }

    /// <summary>Returns the stable id <c>&lt;id&gt;.&lt;tag&gt;</c> of a definition from a source tagged <paramref name="tag"/>, or <see langword="null"/> when it would not be a valid id.</summary>
    /// <param name="id">The id the definition was written with.</param>
    /// <param name="tag">The source's tag (see <see cref="SourceTags"/>).</param>
    /// <returns>The stable id.</returns>
    public static string? Qualify(string id, string tag)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(tag);
        var room = ServerIds.MaxLength - tag.Length - 1;
        var qualified = $"{(id.Length > room ? id[..room].TrimEnd('-', '.', '_') : id)}.{tag}";
        return ServerIds.IsValidServerId(qualified) ? qualified : null;
    }

    /// <summary>What makes two definitions the same server: how it is reached (command, arguments, environment, working directory; URL and headers; socket and launch).</summary>
    private static string Identity(ServerManifest manifest)
    {
        var sb = new System.Text.StringBuilder();
        void Add(string? value) => sb.Append(value?.Length ?? -1).Append(':').Append(value).Append('|');
        void AddMap(IReadOnlyDictionary<string, string> map, StringComparer comparer)
        {
            foreach (var (name, value) in map.OrderBy(p => p.Key, comparer))
            {
                Add(comparer == StringComparer.OrdinalIgnoreCase ? name.ToLowerInvariant() : name);
                Add(value);
            }
        }

        Add(manifest.Transport.Type);
        switch (manifest.Transport)
        {
            case StdioTransport stdio:
                Add(stdio.Command);
                Add(stdio.Cwd);
                stdio.Args.ToList().ForEach(Add);
                sb.Append("env|");
                AddMap(stdio.Env, StringComparer.Ordinal);
                break;
            case HttpTransport http:
                Add(http.Url.OriginalString);
                Add(http.LegacySse ? "sse" : "streamable");
                AddMap(http.Headers, StringComparer.OrdinalIgnoreCase);
                break;
            case SocketTransport socket:
                Add(socket.Path);
                break;
            default:
                break;
        }

        if (manifest.Launch is { } launch)
        {
            sb.Append("launch|");
            Add(launch.Command);
            Add(launch.Cwd);
            launch.Args.ToList().ForEach(Add);
            AddMap(launch.Env, StringComparer.Ordinal);
        }

        return sb.ToString();
    }

    private static RegistryChangedEventArgs? Diff(RegistrySnapshot previous, RegistrySnapshot next)
    {
        var added = new List<string>();
        var updated = new List<string>();
        foreach (var server in next.Servers)
        {
            var old = previous.FindById(server.Id);
            if (old is null)
            {
                added.Add(server.Id);
            }
            else if (!SameDefinition(old, server))
            {
                updated.Add(server.Id);
            }
        }

        var removed = previous.Servers.Where(s => next.FindById(s.Id) is null).Select(s => s.Id).ToList();
        return added.Count + removed.Count + updated.Count == 0 ? null : new RegistryChangedEventArgs(next, added, removed, updated);
    }

    private static bool SameDefinition(DiscoveredServer a, DiscoveredServer b)
    {
        if (a.Provenance != b.Provenance || !a.Shadowed.SequenceEqual(b.Shadowed) || a.ShadowedBy != b.ShadowedBy
            || !a.Aliases.SequenceEqual(b.Aliases) || !a.Duplicates.SequenceEqual(b.Duplicates))
        {
            return false;
        }

        // Sources cache parsed manifests, so an unchanged file yields the same instance; otherwise compare content.
        return ReferenceEquals(a.Manifest, b.Manifest) || ManifestWriter.ToUtf8Bytes(a.Manifest).AsSpan().SequenceEqual(ManifestWriter.ToUtf8Bytes(b.Manifest));
    }

    private void ArmWatchers()
    {
        foreach (var path in _sources.SelectMany(s => s.WatchPaths).Distinct(StringComparer.Ordinal))
        {
            if (_watchers.ContainsKey(path))
            {
                continue;
            }

            string directory;
            string filter;
            if (Directory.Exists(path))
            {
                (directory, filter) = (path, "*");
            }
            else if (Path.GetDirectoryName(path) is { } parent && Directory.Exists(parent))
            {
                (directory, filter) = (parent, Path.GetFileName(path));
            }
            else
            {
                continue; // neither the path nor its parent exists yet: the poll timer notices it later
            }

            try
            {
                var watcher = new FileSystemWatcher(directory, filter)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                    IncludeSubdirectories = false,
                };
                watcher.Changed += OnFileEvent;
                watcher.Created += OnFileEvent;
                watcher.Deleted += OnFileEvent;
                watcher.Renamed += OnFileEvent;
                watcher.Error += (_, e) => Log.WatcherFailed(_logger, directory, e.GetException());
                watcher.EnableRaisingEvents = true;
                if (!_watchers.TryAdd(path, watcher))
                {
                    watcher.Dispose();
                }
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
            {
                // For example the inotify instance limit: polling still covers this path.
                Log.WatcherFailed(_logger, directory, ex);
            }
        }
    }

    private void OnFileEvent(object sender, FileSystemEventArgs e)
    {
        lock (_timerLock)
        {
            if (_disposed)
            {
                return;
            }

            if (_debounceTimer is null)
            {
                _debounceTimer = _time.CreateTimer(_ => _ = RefreshInBackgroundAsync(), null, _options.Debounce, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _debounceTimer.Change(_options.Debounce, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void OnPoll()
    {
        lock (_timerLock)
        {
            if (_disposed)
            {
                return;
            }

            ArmWatchers();
        }

        _ = RefreshInBackgroundAsync();
    }

    private async Task RefreshInBackgroundAsync()
    {
        try
        {
            await RefreshAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception ex)
        {
            Log.RefreshFailed(_logger, ex);
        }
    }

    private sealed class MergeEntry(ServerManifest manifest, ServerProvenance provenance, string identity)
    {
        public ServerManifest Manifest { get; } = manifest;

        public ServerProvenance Provenance { get; } = provenance;

        public string Identity { get; } = identity;

        public string? ShadowedBy { get; init; }

        public List<ServerProvenance> Shadowed { get; } = [];

        public List<ServerProvenance> Duplicates { get; } = [];

        public List<string> Aliases { get; } = [];

        public void AddAlias(string? alias)
        {
            if (alias is not null && alias != Manifest.Id && !Aliases.Contains(alias, StringComparer.Ordinal))
            {
                Aliases.Add(alias);
            }
        }
    }

    /// <summary>Servers registered in code; always the first source.</summary>
    private sealed class ProgrammaticSource : IServerSource
    {
        private readonly ConcurrentDictionary<string, ServerManifest> _servers = new(StringComparer.Ordinal);

        public ServerSourceKind Kind => ServerSourceKind.Programmatic;

        public string DisplayName => "code";

        public IReadOnlyList<string> WatchPaths => [];

        public void Set(ServerManifest manifest) => _servers[manifest.Id] = manifest;

        public bool Remove(string id) => _servers.TryRemove(id, out _);

        public ValueTask<SourceReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new SourceReadResult(
                [.. _servers.Values.OrderBy(m => m.Id, StringComparer.Ordinal).Select(m => new SourcedManifest(m, new ServerProvenance(ServerSourceKind.Programmatic, "code")))],
                []));
    }

    private static partial class Log
    {
        [LoggerMessage(5001, LogLevel.Information, "Registry changed: {Count} servers ({Added} added, {Removed} removed, {Updated} updated)")]
        public static partial void RegistryChanged(ILogger logger, int count, int added, int removed, int updated);

        [LoggerMessage(5002, LogLevel.Warning, "Cannot watch {Directory} for changes; polling instead")]
        public static partial void WatcherFailed(ILogger logger, string directory, Exception? exception);

        [LoggerMessage(5003, LogLevel.Error, "Registry refresh failed")]
        public static partial void RefreshFailed(ILogger logger, Exception exception);
    }
}
