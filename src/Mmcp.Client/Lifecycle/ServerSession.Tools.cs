using System.Net.Sockets;
using System.Text.Json;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Lifecycle;

/// <summary>The tool list: live, last live, cached or the manifest snapshot, and listings that never start an app.</summary>
internal sealed partial class ServerSession
{
    /// <summary>Returns the live tool list of the current connection, connecting and fetching it when needed.</summary>
    public async ValueTask<IReadOnlyList<Tool>> GetLiveToolsAsync(CancellationToken cancellationToken)
    {
        Task<IReadOnlyList<Tool>> fetch;
        lock (_gate)
        {
            if (_liveTools is not null && _live is { IsOpen: true } live && ReferenceEquals(live, _liveToolsConnection))
            {
                return _liveTools;
            }

            fetch = _toolFetch ??= FetchToolsAsync();
        }

        return await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks the server for its tools afresh: the live list is dropped, and a fetch that started before this call (which
    /// answers with what it saw then) is not taken as the answer.
    /// </summary>
    public async ValueTask<IReadOnlyList<Tool>> RefreshToolsAsync(CancellationToken cancellationToken)
    {
        Invalidate();
        var tools = await GetLiveToolsAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (_liveTools is not null)
            {
                return tools; // a fetch that started after the invalidation stored its answer
            }
        }

        return await GetLiveToolsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists for an aggregated listing: live when it comes in time, otherwise the last known list while the server starts.</summary>
    public async Task<(IReadOnlyList<Tool>? Tools, ServerListResult Result)> ListToolsForListingAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_liveTools is not null && _live is { IsOpen: true } live && ReferenceEquals(live, _liveToolsConnection))
            {
                return (_liveTools, new ServerListResult(Id, ListSource.Live, null));
            }
        }

        var (fallback, fallbackSource) = KnownTools;
        return await ListWithFallbackAsync(
            ct => GetLiveToolsAsync(ct).AsTask(),
            fallbackSource == ListSource.None ? null : fallback,
            fallbackSource,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists something live, falling back to <paramref name="fallback"/> while the server starts or when it fails.</summary>
    public async Task<(T? Items, ServerListResult Result)> ListWithFallbackAsync<T>(Func<CancellationToken, Task<T>> list, T? fallback, ListSource fallbackSource, CancellationToken cancellationToken)
        where T : class
    {
        // Listing never starts an app on demand (ARCHITECTURE §6: discovery must not bind every service to read a
        // string): an app that is not running is listed from its snapshot or cached list; the first call starts it.
        if (fallback is not null && ListingWouldLaunchApp())
        {
            return (fallback, new ServerListResult(Id, fallbackSource, null));
        }

        // The live request runs on the hub's budgets, not the caller's token, so a slow starter keeps starting after we return.
        var live = list(_disposing.Token);
        if (fallback is null)
        {
            try
            {
                return (await live.WaitAsync(cancellationToken).ConfigureAwait(false), new ServerListResult(Id, ListSource.Live, null));
            }
            catch (HubException ex)
            {
                return (null, new ServerListResult(Id, ListSource.None, ToFailure(ex)));
            }
        }

        ObserveFailure(live);
        var wait = _rt.Options.StartingServerListWait;
        try
        {
            var items = wait == TimeSpan.Zero && !live.IsCompleted
                ? throw new TimeoutException()
                : await live.WaitAsync(wait, _rt.Time, cancellationToken).ConfigureAwait(false);
            return (items, new ServerListResult(Id, ListSource.Live, null));
        }
        catch (TimeoutException)
        {
            // Still starting: what was known from before stands in, unless the server refused this client last time.
            lock (_gate)
            {
                if (_refused)
                {
                    return (null, new ServerListResult(Id, ListSource.None, _lastFailure));
                }
            }

            return (fallback, new ServerListResult(Id, fallbackSource, null));
        }
        catch (HubException ex)
        {
            // A server that is down is listed from what was known; one that refuses this client is not (a cached list is not a permission).
            var failure = ToFailure(ex);
            return RefusesClient(failure) ? (null, new ServerListResult(Id, ListSource.None, failure)) : (fallback, new ServerListResult(Id, fallbackSource, failure));
        }
    }

    /// <summary>Whether asking live would start an app: a socket server with an on-demand launch whose socket is not listening.</summary>
    private bool ListingWouldLaunchApp()
    {
        if (_rt.Options.LaunchToList)
        {
            return false;
        }

        lock (_gate)
        {
            if (_live is { IsOpen: true } || _connecting is not null)
            {
                return false;
            }
        }

        if (_server.Manifest is not { Transport: SocketTransport socket, Launch: not null })
        {
            return false;
        }

        string path;
        try
        {
            path = RegistryPaths.ResolveSocketPath(socket.Path, _rt.Environment);
        }
        catch (ArgumentException)
        {
            return false; // let the live attempt report the configuration error
        }

        if (!File.Exists(path))
        {
            return true;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>Lists every page of something.</summary>
    /// <summary>One page of a list, each item keeping the server's own JSON (<see cref="ResultJson"/>).</summary>
    public static async ValueTask<TResult> ListPageAsync<TParams, TResult, TItem>(McpClient client, string method, TParams parameters, string property, Func<TResult, IList<TItem>> items, CancellationToken cancellationToken)
        where TResult : Result
        where TItem : class
    {
        var page = await ResultJson.RequestAsync<TParams, TResult>(client, method, parameters, cancellationToken).ConfigureAwait(false);
        return ResultJson.WithItemJson(page, property, items(page));
    }

    public static async ValueTask<List<TItem>> ListAllPagesAsync<TResult, TItem>(Func<string?, ValueTask<TResult>> page, Func<TResult, IEnumerable<TItem>> items, Func<TResult, string?> next)
    {
        var all = new List<TItem>();
        string? cursor = null;
        for (var i = 0; i < MaxPages; i++)
        {
            var result = await page(cursor).ConfigureAwait(false);
            all.AddRange(items(result));
            cursor = next(result);
            if (cursor is null)
            {
                break;
            }
        }

        return all;
    }

    private async Task<IReadOnlyList<Tool>> FetchToolsAsync()
    {
        long version;
        lock (_gate)
        {
            version = _toolsVersion;
        }

        try
        {
            LiveConnection? source = null;
            var tools = await ExecuteAsync<IReadOnlyList<Tool>>(
                RequestMethods.ToolsList,
                null,
                RequestKind.List,
                async (client, ct) =>
                {
                    lock (_gate)
                    {
                        source = _live is { } l && ReferenceEquals(l.Client, client) ? l : null;
                    }

                    if (client.ServerCapabilities.Tools is null)
                    {
                        return [];
                    }

                    return await ListAllPagesAsync(
                        cursor => ListPageAsync<ListToolsRequestParams, ListToolsResult, Tool>(client, RequestMethods.ToolsList, new() { Cursor = cursor }, "tools", r => r.Tools, ct),
                        r => r.Tools,
                        r => r.NextCursor).ConfigureAwait(false);
                },
                _disposing.Token).ConfigureAwait(false);

            var (previous, _) = KnownTools;
            var changed = !SameTools(previous, tools);
            lock (_gate)
            {
                if (version == _toolsVersion && source is not null && ReferenceEquals(source, _live))
                {
                    _liveTools = tools;
                    _liveToolsConnection = source;
                }

                _lastLiveTools = tools;
            }

            if (changed)
            {
                if (_rt.Options.PersistToolCache)
                {
                    _rt.Cache.Save(_server.Manifest, tools);
                }

                _rt.ListChanged?.Invoke(Id, HubListKind.Tools);
            }

            return tools;
        }
        finally
        {
            lock (_gate)
            {
                _toolFetch = null;
            }
        }
    }

    private IReadOnlyList<Tool>? LoadCache()
    {
        lock (_gate)
        {
            if (_cacheLoaded)
            {
                return _cachedTools;
            }
        }

        var cached = _rt.Options.PersistToolCache ? _rt.Cache.TryLoad(_server.Manifest) : null;
        lock (_gate)
        {
            if (!_cacheLoaded)
            {
                _cachedTools = cached;
                _cacheLoaded = true;
            }

            return _cachedTools; // what a refusal meanwhile left (nothing)
        }
    }

    private void Invalidate()
    {
        lock (_gate)
        {
            _liveTools = null;
            _toolsVersion++;
        }
    }

    private void OnListChanged(HubListKind kind)
    {
        if (kind == HubListKind.Tools)
        {
            Invalidate();
        }

        Log.ListChanged(_rt.Logger, Id, kind);
        _rt.ListChanged?.Invoke(Id, kind);
    }

    private static bool Contains(IReadOnlyList<Tool> tools, string name)
    {
        foreach (var t in tools)
        {
            if (string.Equals(t.Name, name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static string DescribeTools(IReadOnlyList<Tool> tools) =>
        tools.Count == 0 ? "It offers no tools." : $"Its tools: {string.Join(", ", tools.Select(t => t.Name).Order(StringComparer.Ordinal).Take(30))}{(tools.Count > 30 ? ", …" : string.Empty)}.";

    private static bool SameTools(IReadOnlyList<Tool> a, IReadOnlyList<Tool> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        var typeInfo = McpJsonUtilities.GetTypeInfo<Tool>(McpJsonUtilities.DefaultOptions);
        for (var i = 0; i < a.Count; i++)
        {
            if (!ReferenceEquals(a[i], b[i]) && !JsonSerializer.SerializeToUtf8Bytes(a[i], typeInfo).AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(b[i], typeInfo)))
            {
                return false;
            }
        }

        return true;
    }
}
