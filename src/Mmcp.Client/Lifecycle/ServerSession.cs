using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Mmcp.Client.Connectors;
using Mmcp.Client.Diagnostics;
using Mmcp.Client.Traffic;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Shared.Timing;

namespace Mmcp.Client.Lifecycle;

/// <summary>
/// One server's lifecycle: lazy connect within the launch and handshake budgets, a call budget per request, retries
/// of idempotent requests after a crash, restart with exponential backoff and jitter after repeated failures (the
/// failure reason is kept), idle disconnect, list-change subscriptions in both protocol eras, and its tool list.
/// </summary>
internal sealed partial class ServerSession : IAsyncDisposable
{
    private static readonly TimeSpan LaunchGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan CrashDetailsWait = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxDiscoverProbe = TimeSpan.FromSeconds(5);
    private const int MaxPages = 1000;
    private static long _nextConnection;
    private static long _nextRequest;
    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<ProgressNotificationParams> ProgressParamsType =
        McpJsonUtilities.GetTypeInfo<ProgressNotificationParams>(McpJsonUtilities.DefaultOptions);

    private readonly HubRuntime _rt;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _disposing = new();

    // Progress tokens of calls in flight. Progress is routed as the transport reads it, in order: the SDK runs
    // notification handlers concurrently with the response, so a handler could see a call's last progress only after
    // the call had returned (and its caller had sent the result on).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IProgress<ProgressNotificationValue>> _progress = new(StringComparer.Ordinal);
    private DiscoveredServer _server;
    private ServerBudgets _budgets;
    private LiveConnection? _live;
    private Task<LiveConnection>? _connecting;
    private int _consecutiveFailures;
    private int _reconnects;
    private ServerFailure? _lastFailure;
    private DateTimeOffset? _retryAt;
    private int? _launchedProcessId;
    private int _inFlight;
    private long _lastUsed;
    private ITimer? _idleTimer;
    private bool _idleTimerArmed;
    private bool _disposed;

    // Tools: the live list of the current connection (null until fetched or after a change was announced), the last
    // live list of any connection, and the cache file's list (loaded once per definition).
    private IReadOnlyList<Tool>? _liveTools;
    private LiveConnection? _liveToolsConnection;
    private IReadOnlyList<Tool>? _lastLiveTools;
    private IReadOnlyList<Tool>? _cachedTools;
    private bool _cacheLoaded;
    private long _toolsVersion;
    private Task<IReadOnlyList<Tool>>? _toolFetch;

    public ServerSession(DiscoveredServer server, HubRuntime runtime)
    {
        _server = server;
        _rt = runtime;
        _budgets = ServerBudgets.For(runtime.Options, server.Manifest);
    }

    public string Id => _server.Id;

    public DiscoveredServer Server => _server;

    public ServerStatus Status
    {
        get
        {
            lock (_gate)
            {
                var live = _live is { IsOpen: true } l ? l : null;
                var state = live is not null ? ServerState.Connected
                    : _connecting is not null ? ServerState.Connecting
                    : _retryAt is { } at && at > _rt.Time.GetUtcNow() ? ServerState.BackingOff
                    : ServerState.Disconnected;
                return new ServerStatus(state, _consecutiveFailures, _lastFailure)
                {
                    Reconnects = _reconnects,
                    RetryAt = state == ServerState.BackingOff ? _retryAt : null,
                    ProtocolVersion = live?.Client.NegotiatedProtocolVersion,
                    ServerInfo = live?.Client.ServerInfo,
                    Capabilities = live?.Client.ServerCapabilities,
                    LaunchedProcessId = _launchedProcessId,
                    ProcessId = live?.Connection.ProcessId,
                };
            }
        }
    }

    /// <summary>Gets the tools the hub knows for this server without asking it: live, last live, cached, or the manifest snapshot.</summary>
    public (IReadOnlyList<Tool> Tools, ListSource Source) KnownTools
    {
        get
        {
            lock (_gate)
            {
                if (_liveTools is not null)
                {
                    return (_liveTools, ListSource.Live);
                }

                if (_lastLiveTools is not null)
                {
                    return (_lastLiveTools, ListSource.Cache);
                }
            }

            if (LoadCache() is { } cached)
            {
                return (cached, ListSource.Cache);
            }

            return _server.Manifest.Capabilities is { } snapshot ? (snapshot.Tools, ListSource.Snapshot) : ([], ListSource.None);
        }
    }

    /// <summary>Takes a new definition of this server; a changed one closes the connection so the next use follows it.</summary>
    public async ValueTask UpdateAsync(DiscoveredServer server)
    {
        LiveConnection? toClose;
        lock (_gate)
        {
            _server = server;
            _budgets = ServerBudgets.For(_rt.Options, server.Manifest);
            toClose = _live;
            _live = null;
            _liveTools = null;
            _lastLiveTools = null;
            _cachedTools = null;
            _cacheLoaded = false;
            _consecutiveFailures = 0;
            _retryAt = null;
            _toolsVersion++;
        }

        if (toClose is not null)
        {
            await CloseAsync(toClose).ConfigureAwait(false);
        }

        _rt.ListChanged?.Invoke(Id, HubListKind.Tools);
    }

    // ---------------------------------------------------------------- requests

    public async ValueTask<T> ExecuteAsync<T>(string method, string? target, RequestKind kind, Func<McpClient, CancellationToken, ValueTask<T>> operation, CancellationToken cancellationToken)
    {
        var attempts = kind == RequestKind.CallTool ? 1 : 1 + _rt.Options.IdempotentRetries;
        var sessionRenewed = false;

        // Counted as in use from before connecting, so the idle timer cannot close the connection under this request.
        Interlocked.Increment(ref _inFlight);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var live = await ConnectAsync(cancellationToken).ConfigureAwait(false);
                var started = Stopwatch.GetTimestamp();
                using var activity = HubTelemetry.StartRequest(Id, method, target, _server.Manifest.Transport.Type);
                using var timeout = new CancellationTokenSource(_budgets.Call, _rt.Time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, live.Closed);
                try
                {
                    var result = await operation(live.Client, linked.Token).ConfigureAwait(false);
                    OnSuccess();
                    HubTelemetry.RecordRequest(Id, method, "ok", Stopwatch.GetElapsedTime(started));
                    return result;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not HubException && !sessionRenewed && IsSessionLost(ex, live))
                {
                    // A remote server that restarted no longer knows this session (404, or 400 naming the session):
                    // start a new one and send the request again once, when sending it twice does no harm.
                    sessionRenewed = true;
                    var retry = kind != RequestKind.CallTool || (method == RequestMethods.ToolsCall && IsIdempotentTool(target));
                    var failure = await DropLostSessionAsync(live, ex, method, target).ConfigureAwait(false);
                    HubTelemetry.RecordRequest(Id, method, HubErrorCode.ServerCrashed.ToString(), Stopwatch.GetElapsedTime(started));
                    if (retry && !_disposing.IsCancellationRequested)
                    {
                        Log.RenewingSession(_rt.Logger, Id, method);
                        continue;
                    }

                    HubTelemetry.Fail(activity, HubErrorCode.ServerCrashed.ToString());
                    HubTelemetry.RecordError(Id, HubErrorCode.ServerCrashed);
                    var what = target is null ? method : $"{method} '{target}'";
                    throw new HubException(
                        HubErrorCode.ServerCrashed,
                        Id,
                        $"{failure.Message} during {what}. The request was not retried because it may have had effects (the tool is not annotated read-only or idempotent); the hub started a new session, so calling again reaches the restarted server.",
                        ex,
                        failure)
                    { Target = target };
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not HubException)
                {
                    var error = await ClassifyAsync(ex, live, timeout.IsCancellationRequested, method, target, kind).ConfigureAwait(false);
                    HubTelemetry.RecordRequest(Id, method, error.Code.ToString(), Stopwatch.GetElapsedTime(started));
                    HubTelemetry.Fail(activity, error.Code.ToString());
                    if (error.Code == HubErrorCode.ServerCrashed && attempt < attempts && !_disposing.IsCancellationRequested)
                    {
                        Log.RetryingAfterCrash(_rt.Logger, Id, method, attempt);
                        continue;
                    }

                    HubTelemetry.RecordError(Id, error.Code);
                    throw error;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    HubTelemetry.RecordRequest(Id, method, "cancelled", Stopwatch.GetElapsedTime(started));
                    throw;
                }
            }
        }
        finally
        {
            EndUse();
        }
    }

    public async ValueTask<CallToolResult> CallToolAsync(string tool, IReadOnlyDictionary<string, object?>? arguments, IProgress<ProgressNotificationValue>? progress, CancellationToken cancellationToken)
    {
        var tools = await GetLiveToolsAsync(cancellationToken).ConfigureAwait(false);
        if (!Contains(tools, tool))
        {
            // Servers that do not announce list changes may have gained the tool since: look once more.
            Invalidate();
            tools = await GetLiveToolsAsync(cancellationToken).ConfigureAwait(false);
            if (!Contains(tools, tool))
            {
                HubTelemetry.RecordError(Id, HubErrorCode.UnknownTool);
                throw new HubException(HubErrorCode.UnknownTool, Id, $"Server '{Id}' has no tool '{tool}'. {DescribeTools(tools)}") { Target = tool };
            }
        }

        return await ExecuteAsync(
            RequestMethods.ToolsCall,
            tool,
            RequestKind.CallTool,
            (client, ct) => CallWithCancellationAsync(client, tool, arguments, progress, ct),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Calls a tool with a request id of the hub's own, so a cancelled call is always announced to the server with
    /// <c>notifications/cancelled</c> (SDK 2.3.1 abandons the request silently), and progress is matched by token.
    /// </summary>
    private async ValueTask<CallToolResult> CallWithCancellationAsync(McpClient client, string tool, IReadOnlyDictionary<string, object?>? arguments, IProgress<ProgressNotificationValue>? progress, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextRequest);
        var requestId = new RequestId($"mmcp-call-{id}");
        var parameters = new CallToolRequestParams
        {
            Name = tool,
            Arguments = arguments?.ToDictionary(kv => kv.Key, kv => ToElement(kv.Value), StringComparer.Ordinal),
        };
        string? progressKey = null;
        if (progress is not null)
        {
            progressKey = $"mmcp-progress-{id}";
            parameters.Meta = new System.Text.Json.Nodes.JsonObject { ["progressToken"] = progressKey };
            _progress[progressKey] = progress;
        }

        try
        {
            if (LatencyProbe.Enabled)
            {
                LatencyProbe.Mark(LatencyMark.UpstreamSend);
            }

            var result = await client.SendRequestAsync<CallToolRequestParams, CallToolResult>(RequestMethods.ToolsCall, parameters, requestId: requestId, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (LatencyProbe.Enabled)
            {
                LatencyProbe.Mark(LatencyMark.UpstreamAnswered);
            }

            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !client.Completion.IsCompleted)
        {
            try
            {
                await client.SendNotificationAsync(
                    NotificationMethods.CancelledNotification,
                    new CancelledNotificationParams { RequestId = requestId, Reason = "The caller cancelled the call." },
                    cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or McpException or InvalidOperationException)
            {
            }

            throw;
        }
        finally
        {
            if (progressKey is not null)
            {
                _progress.TryRemove(progressKey, out _);
            }
        }
    }

    /// <summary>An argument as JSON; one that is JSON already (a gateway's, as parsed from its client) goes on as it is.</summary>
    private static JsonElement ToElement(object? value) =>
        value is JsonElement element ? element : JsonSerializer.SerializeToElement(value, McpJsonUtilities.DefaultOptions.GetTypeInfo(value?.GetType() ?? typeof(object)));

    /// <summary>
    /// Subscribes to updates of one resource on the shared connection: <c>resources/subscribe</c> on a 2025-era
    /// connection, a <c>subscriptions/listen</c> request naming the resource on a 2026-07-28 one (which has no
    /// <c>resources/subscribe</c>). The updates arrive as <c>notifications/resources/updated</c> on the connection.
    /// </summary>
    public async ValueTask<IAsyncDisposable> SubscribeAsync(string uri, CancellationToken cancellationToken)
    {
        var live = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        if (live.Client.NegotiatedProtocolVersion == ProtocolVersions.Latest)
        {
            var id = new RequestId($"mmcp-subscribe-{Interlocked.Increment(ref _nextRequest)}");
            var stop = CancellationTokenSource.CreateLinkedTokenSource(live.Closed);
            var listen = live.Client.SendRequestAsync<SubscriptionsListenRequestParams, EmptyResult>(
                RequestMethods.SubscriptionsListen,
                new SubscriptionsListenRequestParams { Notifications = new SubscriptionsListenNotifications { ResourceSubscriptions = [uri] } },
                requestId: id,
                cancellationToken: stop.Token).AsTask();
            ObserveFailure(listen);
            return new ListenSubscription(live, id, stop, listen);
        }

        await ExecuteAsync(RequestMethods.ResourcesSubscribe, uri, RequestKind.List, async (client, ct) =>
        {
            await client.SubscribeToResourceAsync(uri, options: null, cancellationToken: ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return new LegacySubscription(live, uri);
    }

    /// <summary>A <c>subscriptions/listen</c> request held open for one resource; disposing it cancels the request on the server.</summary>
    private sealed class ListenSubscription(LiveConnection live, RequestId id, CancellationTokenSource stop, Task listen) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (!listen.IsCompleted && live.IsOpen)
            {
                try
                {
                    await live.Client.SendNotificationAsync(NotificationMethods.CancelledNotification, new CancelledNotificationParams { RequestId = id, Reason = "Unsubscribed." }, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or McpException or InvalidOperationException)
                {
                }
            }

            await stop.CancelAsync().ConfigureAwait(false);
            stop.Dispose();
        }
    }

    /// <summary>A <c>resources/subscribe</c> on one connection; disposing it unsubscribes while that connection lives.</summary>
    private sealed class LegacySubscription(LiveConnection live, string uri) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (!live.IsOpen)
            {
                return; // the server's session, and the subscription with it, is gone
            }

            try
            {
                await live.Client.UnsubscribeFromResourceAsync(uri, options: null, cancellationToken: live.Closed).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or McpException or OperationCanceledException or InvalidOperationException)
            {
            }
        }
    }

    /// <summary>Hands a <c>notifications/progress</c> read from a connection to the call that asked for it.</summary>
    private void RouteProgress(JsonRpcMessage message)
    {
        // Runs for every message read: the cheap type test first (IsEmpty takes the dictionary's locks when it is empty).
        if (message is not JsonRpcNotification { Method: NotificationMethods.ProgressNotification, Params: { } raw } || _progress.IsEmpty)
        {
            return;
        }

        try
        {
            if (raw.Deserialize(ProgressParamsType) is { } p && p.ProgressToken.ToString() is { } key && _progress.TryGetValue(key, out var progress))
            {
                progress.Report(p.Progress);
            }
        }
        catch (JsonException)
        {
            // A malformed notification is the server's problem; the call goes on.
        }
    }

    // ---------------------------------------------------------------- tools

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
            return (fallback, new ServerListResult(Id, fallbackSource, null));
        }
        catch (HubException ex)
        {
            return (fallback, new ServerListResult(Id, fallbackSource, ToFailure(ex)));
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
                        cursor => client.ListToolsAsync(new ListToolsRequestParams { Cursor = cursor }, ct),
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
            _cachedTools = cached;
            _cacheLoaded = true;
        }

        return cached;
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

    // ---------------------------------------------------------------- connecting

    private Task<LiveConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        Task<LiveConnection> connecting;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_live is { IsOpen: true } live)
            {
                return Task.FromResult(live);
            }

            if (_connecting is null)
            {
                var now = _rt.Time.GetUtcNow();
                if (_retryAt is { } retryAt && retryAt > now && _lastFailure is { } last)
                {
                    var seconds = Math.Max(1, (int)Math.Ceiling((retryAt - now).TotalSeconds));
                    HubTelemetry.RecordError(Id, last.Code);
                    return Task.FromException<LiveConnection>(new HubException(
                        last.Code,
                        Id,
                        $"Server '{Id}' failed {_consecutiveFailures} times in a row; the hub tries again in {seconds} s. Last failure: {last.Message}",
                        failure: last));
                }

                // The connect runs on the hub's budgets, detached from this caller, so callers that give up do not abort it for the others.
                _connecting = ConnectAndPublishAsync();
            }

            connecting = _connecting;
        }

        return connecting.WaitAsync(cancellationToken);
    }

    private async Task<LiveConnection> ConnectAndPublishAsync()
    {
        await Task.Yield(); // run outside the caller's lock
        while (true)
        {
            DiscoveredServer server;
            ServerBudgets budgets;
            lock (_gate)
            {
                server = _server;
                budgets = _budgets;
            }

            var started = Stopwatch.GetTimestamp();
            var transport = server.Manifest.Transport.Type;
            LiveConnection live;
            try
            {
                live = await OpenAsync(server, budgets, "shared", configure: null, inlineObserver: null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (HubException ex)
            {
                HubTelemetry.RecordConnect(Id, transport, ex.Code.ToString(), Stopwatch.GetElapsedTime(started));
                var failure = ToFailure(ex);
                lock (_gate)
                {
                    _connecting = null;
                    RecordFailureLocked(failure, countsTowardsBackoff: ex.Code != HubErrorCode.ConfigurationError);
                }

                Log.ConnectFailed(_rt.Logger, Id, ex.Code, ex.Message);
                throw;
            }
            catch
            {
                lock (_gate)
                {
                    _connecting = null;
                }

                throw;
            }

            bool redefined;
            lock (_gate)
            {
                if (_disposed)
                {
                    _connecting = null;
                    live.ClosingOnPurpose = true;
                    _ = live.DisposeAsync().AsTask();
                    throw new ObjectDisposedException(nameof(ServerSession));
                }

                // The definition may have changed while this connection was being made: then follow the new one.
                redefined = !ReferenceEquals(server, _server);
                if (!redefined)
                {
                    _connecting = null;
                    _live = live;
                    _retryAt = null;
                    if (live.Connection.LaunchedProcessId is { } pid)
                    {
                        _launchedProcessId = pid;
                    }
                }
            }

            if (redefined)
            {
                await CloseAsync(live).ConfigureAwait(false);
                continue;
            }

            live.Watcher = WatchAsync(live);
            Volatile.Write(ref _lastUsed, _rt.Time.GetTimestamp());
            ArmIdleTimer();
            HubTelemetry.RecordConnect(Id, transport, "ok", Stopwatch.GetElapsedTime(started));
            Log.Connected(_rt.Logger, Id, transport, live.Client.NegotiatedProtocolVersion, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return live;
        }
    }

    /// <summary>
    /// Opens a connection of its own to this server, outside the shared connection's lifecycle (no idle close, no
    /// restart): for a gateway session that needs the server's session state (subscriptions, sampling, logging) to
    /// itself. The caller owns and disposes it.
    /// </summary>
    public async Task<(LiveConnection Live, ServerBudgets Budgets)> OpenDedicatedAsync(Action<McpClientOptions>? configure, Action<JsonRpcMessage>? inlineObserver, CancellationToken cancellationToken)
    {
        DiscoveredServer server;
        ServerBudgets budgets;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            server = _server;
            budgets = _budgets;
        }

        var connectionId = $"dedicated-{Interlocked.Increment(ref _nextConnection)}";
        var live = await OpenAsync(server, budgets, connectionId, configure, inlineObserver, cancellationToken).ConfigureAwait(false);
        live.ClosingOnPurpose = true;
        _ = live.Client.Completion.ContinueWith(static (_, l) => ((LiveConnection)l!).MarkClosed(), live, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return (live, budgets);
    }

    private async Task<LiveConnection> OpenAsync(DiscoveredServer server, ServerBudgets budgets, string connectionId, Action<McpClientOptions>? configure, Action<JsonRpcMessage>? inlineObserver, CancellationToken callerToken)
    {
        var connector = _rt.Connectors.FirstOrDefault(c => c.CanConnect(server)) ?? throw new HubException(
            HubErrorCode.ConfigurationError,
            server.Id,
            $"Server '{server.Id}' uses the '{server.Manifest.Transport.Type}' transport, which no connector of this hub handles. Register a connector for it with AddMmcpHub().AddConnector<T>().");
        var context = new ConnectorContext(server, budgets, _rt.Environment, _rt.Options, _rt.LoggerFactory, _rt.Time);

        // 1. Open the transport (an on-demand launch happens here) within the launch budget.
        ServerConnection connection;
        using (var launchTimeout = new CancellationTokenSource(budgets.Launch + LaunchGrace, _rt.Time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(launchTimeout.Token, _disposing.Token, callerToken))
        {
            try
            {
                connection = await connector.ConnectAsync(context, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (launchTimeout.IsCancellationRequested && !_disposing.IsCancellationRequested && !callerToken.IsCancellationRequested)
            {
                throw new HubException(HubErrorCode.LaunchFailed, server.Id, $"Server '{server.Id}' could not be reached within its launch budget of {Seconds(budgets.Launch)} s. Raise 'timeouts.launch' in its definition ({server.Provenance}) if it needs longer to start.");
            }
            catch (Exception ex) when (ex is not (HubException or OperationCanceledException))
            {
                throw new HubException(HubErrorCode.ConnectionFailed, server.Id, $"Server '{server.Id}' could not be reached: {ex.Message}", ex);
            }
        }

        // 2. The MCP handshake within the handshake budget (plus the launch budget when the process starts only now).
        var handshakeBudget = connection.StartsDuringHandshake ? budgets.Launch + budgets.Handshake : budgets.Handshake;
        var options = new McpClientOptions
        {
            ClientInfo = new Implementation { Name = _rt.Options.ClientName, Version = _rt.Options.ClientVersion },
            ProtocolVersion = server.Manifest.ProtocolVersion ?? _rt.Options.ProtocolVersion,
            InitializationTimeout = handshakeBudget,
            // A process that is still starting must not lose the server/discover probe to its start-up time: the SDK
            // would fall back to initialize while the server, answering the probe late, has settled on 2026-07-28 and
            // refuses initialize. Servers that are already running get the SDK's usual short probe.
            DiscoverProbeTimeout = connection.StartsDuringHandshake || handshakeBudget < MaxDiscoverProbe ? handshakeBudget : MaxDiscoverProbe,
            Handlers = new McpClientHandlers
            {
                NotificationHandlers =
                [
                    new(NotificationMethods.ToolListChangedNotification, (_, _) => Notify(HubListKind.Tools)),
                    new(NotificationMethods.ResourceListChangedNotification, (_, _) => Notify(HubListKind.Resources)),
                    new(NotificationMethods.PromptListChangedNotification, (_, _) => Notify(HubListKind.Prompts)),
                ],
            },
        };

        var requests = configure is null ? _rt.ServerRequests : null;
        if (requests is not null)
        {
            AnswerServerRequests(options, requests, server.Id);
        }

        configure?.Invoke(options);
        McpClient client;
        var started = _rt.Time.GetTimestamp();
        using (var handshakeTimeout = new CancellationTokenSource(handshakeBudget, _rt.Time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(handshakeTimeout.Token, _disposing.Token, callerToken))
        {
            try
            {
                if (requests?.Notification is { } notify)
                {
                    var serverId = server.Id;
                    inlineObserver = m =>
                    {
                        if (IsForwardedNotification(m) && m is JsonRpcNotification n)
                        {
                            notify(serverId, n.Method, n.Params?.DeepClone());
                        }
                    };
                }

                Action<JsonRpcMessage> observe = inlineObserver is null ? RouteProgress : m =>
                {
                    RouteProgress(m);
                    inlineObserver(m);
                };
                var transport = new TappedClientTransport(connection.Transport, _rt.Traffic, Id, connectionId, observe);
                client = await McpClient.CreateAsync(transport, options, _rt.LoggerFactory, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                if (_disposing.IsCancellationRequested)
                {
                    throw new OperationCanceledException("The hub is shutting down.", ex, _disposing.Token);
                }

                callerToken.ThrowIfCancellationRequested();

                var timedOut = handshakeTimeout.IsCancellationRequested || _rt.Time.GetElapsedTime(started) >= handshakeBudget;
                throw await HandshakeErrorAsync(server, connection, ex, timedOut, handshakeBudget).ConfigureAwait(false);
            }
        }

        var live = new LiveConnection(client, connection, server.Id, server.Manifest.Transport.Type, connectionId);
        StartListening(live);
        return live;

        ValueTask Notify(HubListKind kind)
        {
            OnListChanged(kind);
            return ValueTask.CompletedTask;
        }
    }

#pragma warning disable MCP9005 // sampling, roots and logging are deprecated by 2026-07-28 but live on 2025-era connections

    /// <summary>Declares the capabilities of the hub's server-request handlers on a shared connection and routes the requests to them.</summary>
    private static void AnswerServerRequests(McpClientOptions options, HubServerRequests requests, string serverId)
    {
        var capabilities = options.Capabilities ?? new ClientCapabilities();
        if (requests.Sampling is { } sampling)
        {
            capabilities.Sampling ??= new SamplingCapability();
            options.Handlers.SamplingHandler = (p, _, ct) => sampling(serverId, p ?? new CreateMessageRequestParams { Messages = [], MaxTokens = 0 }, ct);
        }

        if (requests.Elicitation is { } elicitation)
        {
            capabilities.Elicitation ??= new ElicitationCapability();
            options.Handlers.ElicitationHandler = (p, ct) => elicitation(serverId, p ?? new ElicitRequestParams { Message = string.Empty }, ct);
        }

        if (requests.Roots is { } roots)
        {
            capabilities.Roots ??= new RootsCapability();
            options.Handlers.RootsHandler = (p, ct) => roots(serverId, p ?? new ListRootsRequestParams(), ct);
        }

        options.Capabilities = capabilities;
    }

    private static bool IsForwardedNotification(JsonRpcMessage message) =>
        message is JsonRpcNotification { Method: NotificationMethods.LoggingMessageNotification or NotificationMethods.ResourceUpdatedNotification };
#pragma warning restore MCP9005

    private async Task<HubException> HandshakeErrorAsync(DiscoveredServer server, ServerConnection connection, Exception ex, bool timedOut, TimeSpan budget)
    {
        var details = (ex as ClientTransportClosedException)?.Details ?? (ex.InnerException as ClientTransportClosedException)?.Details;
        var exitCode = (details as StdioClientCompletionDetails)?.ExitCode ?? (timedOut || ex is McpProtocolException ? null : await ExitCodeAsync(connection).ConfigureAwait(false));
        var tail = connection.GetDiagnosticsTail() is { Count: > 0 } t ? t : (details as StdioClientCompletionDetails)?.StandardErrorTail ?? [];
        var status = (int?)(details as HttpClientCompletionDetails)?.HttpStatusCode ?? (int?)(ex as HttpRequestException)?.StatusCode;
        var stderrHint = tail.Count > 0 ? $" Its last output: {tail[^1]}" : string.Empty;
        HubErrorCode code;
        string message;
        if (timedOut)
        {
            code = HubErrorCode.HandshakeTimeout;
            message = $"Server '{server.Id}' did not complete the MCP handshake within {Seconds(budget)} s. If it is slow to start (for example npx downloading a package), raise 'timeouts.handshake' in its definition ({server.Provenance}).{stderrHint}";
        }
        else if (exitCode is not null)
        {
            code = HubErrorCode.LaunchFailed;
            message = $"Server '{server.Id}' exited{(exitCode is { } c ? $" with code {c}" : string.Empty)} before completing the MCP handshake.{stderrHint}";
        }
        else if (ex is McpProtocolException protocol)
        {
            code = HubErrorCode.HandshakeFailed;
            message = $"Server '{server.Id}' refused the MCP handshake: {protocol.Message}{(server.Manifest.ProtocolVersion is { } pin ? $" (its definition pins protocol version {pin})" : string.Empty)}";
        }
        else if (ex is HttpRequestException http)
        {
            code = HubErrorCode.ConnectionFailed;
            message = $"Server '{server.Id}' could not be reached: {http.Message}";
        }
        else
        {
            code = HubErrorCode.HandshakeFailed;
            message = $"Server '{server.Id}' failed the MCP handshake: {ex.Message}{stderrHint}";
        }

        return new HubException(code, server.Id, message, ex, new ServerFailure(code, message, _rt.Time.GetUtcNow()) { ExitCode = exitCode, StandardErrorTail = tail, HttpStatusCode = status });
    }

    /// <summary>On 2026-07-28 sessions list changes only arrive on a <c>subscriptions/listen</c> stream, which the SDK does not open by itself.</summary>
    private void StartListening(LiveConnection live)
    {
        var caps = live.Client.ServerCapabilities;
        if (live.Client.NegotiatedProtocolVersion != ProtocolVersions.Latest
            || (caps.Tools?.ListChanged != true && caps.Resources?.ListChanged != true && caps.Prompts?.ListChanged != true))
        {
            return;
        }

        live.ListenerId = new RequestId($"mmcp-listen-{Guid.NewGuid():N}");
        live.Listener = ListenAsync();

        async Task ListenAsync()
        {
            try
            {
                await live.Client.SendRequestAsync<SubscriptionsListenRequestParams, EmptyResult>(
                    RequestMethods.SubscriptionsListen,
                    new SubscriptionsListenRequestParams
                    {
                        Notifications = new SubscriptionsListenNotifications
                        {
                            ToolsListChanged = caps.Tools?.ListChanged == true ? true : null,
                            ResourcesListChanged = caps.Resources?.ListChanged == true ? true : null,
                            PromptsListChanged = caps.Prompts?.ListChanged == true ? true : null,
                        },
                    },
                    requestId: live.ListenerId,
                    cancellationToken: live.Closed).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or McpException)
            {
                if (!live.Closed.IsCancellationRequested)
                {
                    Log.ListenFailed(_rt.Logger, Id, ex);
                }
            }
        }
    }

    private async Task WatchAsync(LiveConnection live)
    {
        ClientCompletionDetails details;
        try
        {
            details = await live.Client.Completion.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            details = new ClientCompletionDetails { Exception = ex };
        }

        var onPurpose = live.ClosingOnPurpose;
        if (!onPurpose)
        {
            var failure = await CrashFailureAsync(live, details).ConfigureAwait(false);
            live.Failure = failure;
            lock (_gate)
            {
                RecordFailureLocked(failure, countsTowardsBackoff: true);
            }

            Log.ServerCrashed(_rt.Logger, Id, failure.Message);
        }

        lock (_gate)
        {
            if (ReferenceEquals(_live, live))
            {
                _live = null;
                _liveTools = null;
            }
        }

        live.MarkClosed();
        if (!onPurpose)
        {
            await live.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<ServerFailure> CrashFailureAsync(LiveConnection live, ClientCompletionDetails details)
    {
        var stdio = details as StdioClientCompletionDetails;
        var exitCode = stdio?.ExitCode ?? await ExitCodeAsync(live.Connection).ConfigureAwait(false);
        var tail = live.Connection.GetDiagnosticsTail() is { Count: > 0 } t ? t : stdio?.StandardErrorTail ?? [];
        var status = (int?)(details as HttpClientCompletionDetails)?.HttpStatusCode;
        var what = exitCode is { } code ? $"exited with code {code}"
            : status is { } s ? $"ended the HTTP session with status {s}"
            : details.Exception is { } e && e is not OperationCanceledException ? $"closed the connection ({e.Message})"
            : "closed the connection";
        var last = tail.Count > 0 ? $"; its last output: {tail[^1]}" : string.Empty;
        return new ServerFailure(HubErrorCode.ServerCrashed, $"Server '{Id}' {what}{last}", _rt.Time.GetUtcNow())
        {
            ExitCode = exitCode,
            StandardErrorTail = tail,
            HttpStatusCode = status,
        };
    }

    /// <summary>The exit code of a stdio server whose output ended: it normally exits at once; waits briefly for it.</summary>
    private async Task<int?> ExitCodeAsync(ServerConnection connection)
    {
        if (connection.Exited is not { } exited)
        {
            return null;
        }

        try
        {
            return await exited.WaitAsync(CrashDetailsWait, _rt.Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private async ValueTask<HubException> ClassifyAsync(Exception ex, LiveConnection live, bool timedOut, string method, string? target, RequestKind kind)
    {
        var what = target is null ? method : $"{method} '{target}'";
        if (live.Closed.IsCancellationRequested || !live.IsOpen || ex is IOException or ObjectDisposedException or HttpRequestException)
        {
            // Wait briefly for the watcher so the error carries the exit code and standard error.
            if (live.Watcher is { } watcher)
            {
                try
                {
                    await watcher.WaitAsync(CrashDetailsWait, _rt.Time).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }

            var failure = live.Failure ?? new ServerFailure(HubErrorCode.ServerCrashed, $"Server '{Id}' closed the connection ({ex.Message})", _rt.Time.GetUtcNow());
            var retry = kind == RequestKind.CallTool ? "The tool call was not retried (it may have had effects); the next use restarts the server." : "The next use restarts the server.";
            return new HubException(HubErrorCode.ServerCrashed, Id, $"{failure.Message} during {what}. {retry}", ex, failure) { Target = target };
        }

        if (timedOut && ex is OperationCanceledException)
        {
            return new HubException(HubErrorCode.CallTimeout, Id, $"Server '{Id}' did not answer {what} within its call budget of {Seconds(_budgets.Call)} s; the request was cancelled. Raise 'timeouts.call' in its definition ({_server.Provenance}) if it needs longer.", ex) { Target = target };
        }

        if (ex is McpProtocolException protocol)
        {
            var code = (protocol.ErrorCode, kind) switch
            {
                (McpErrorCode.ResourceNotFound, _) => HubErrorCode.NotFound,
                (McpErrorCode.InvalidParams, RequestKind.ReadResource) => HubErrorCode.NotFound,
                (McpErrorCode.InvalidParams, RequestKind.CallTool or RequestKind.GetPrompt) => HubErrorCode.InvalidArguments,
                _ => HubErrorCode.ServerError,
            };
            var message = code switch
            {
                HubErrorCode.NotFound => $"Server '{Id}' has nothing at {what}: {protocol.Message}",
                HubErrorCode.InvalidArguments => $"Server '{Id}' rejected the arguments of {what}: {protocol.Message}",
                _ when protocol.ErrorCode == McpErrorCode.MethodNotFound => $"Server '{Id}' does not support {method}: {protocol.Message}",
                _ => $"Server '{Id}' failed {what} with error {(int)protocol.ErrorCode}: {protocol.Message}",
            };
            return new HubException(code, Id, message, ex) { Target = target };
        }

        return new HubException(HubErrorCode.ServerError, Id, $"Server '{Id}' failed {what}: {ex.Message}", ex) { Target = target };
    }

    // ---------------------------------------------------------------- lost sessions

    /// <summary>
    /// Whether a remote server answered that it does not know this connection's session: HTTP 404 (the spec), or a
    /// JSON-RPC error naming the session, which is how the SDK (2.3.1) surfaces the 400 "No valid session ID provided"
    /// of servers built on the TypeScript SDK (server-everything, the conformance reference server).
    /// </summary>
    private bool IsSessionLost(Exception ex, LiveConnection live)
    {
        if (_server.Manifest.Transport is not HttpTransport)
        {
            return false;
        }

        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case HttpRequestException { StatusCode: System.Net.HttpStatusCode.NotFound }:
                    return true;
                case McpProtocolException p when p.Message.Contains("session", StringComparison.OrdinalIgnoreCase)
                    && ((int)p.ErrorCode is -32000 or -32001 || p.Message.Contains("Bad Request", StringComparison.Ordinal) || p.Message.Contains("Not Found", StringComparison.Ordinal)):
                    return true;
            }
        }

        return live.Client.Completion is { IsCompletedSuccessfully: true } done
            && done.Result is HttpClientCompletionDetails { HttpStatusCode: System.Net.HttpStatusCode.NotFound };
    }

    /// <summary>Whether the server's last known tool list annotates <paramref name="tool"/> as read-only or idempotent, so calling it twice does no harm.</summary>
    private bool IsIdempotentTool(string? tool)
    {
        if (tool is null)
        {
            return false;
        }

        foreach (var t in KnownTools.Tools)
        {
            if (string.Equals(t.Name, tool, StringComparison.Ordinal))
            {
                return t.Annotations is { } a && (a.ReadOnlyHint == true || a.IdempotentHint == true);
            }
        }

        return false;
    }

    /// <summary>Closes a connection whose session the server lost, records the failure, and counts the reconnect the next use makes.</summary>
    private async ValueTask<ServerFailure> DropLostSessionAsync(LiveConnection live, Exception ex, string method, string? target)
    {
        var status = FindStatus(ex) ?? (live.Client.Completion is { IsCompletedSuccessfully: true } done ? (int?)(done.Result as HttpClientCompletionDetails)?.HttpStatusCode : null);
        var failure = new ServerFailure(
            HubErrorCode.ServerCrashed,
            $"Server '{Id}' restarted: it no longer knows the hub's session{(status is { } s ? $" (HTTP {s})" : string.Empty)}: {ex.Message}",
            _rt.Time.GetUtcNow())
        {
            HttpStatusCode = status,
        };
        // The SDK ends the connection on a 404 by itself: then the watcher may have counted it as a crash already.
        // A lost session is cured by a new one, so it neither counts towards the back-off nor is counted twice.
        live.ClosingOnPurpose = true;
        if (live.Client.Completion.IsCompleted && live.Watcher is { } watcher)
        {
            await watcher.WaitAsync(CrashDetailsWait, _rt.Time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var countedAsCrash = live.Failure is not null;
        live.Failure = failure;
        var wasCurrent = false;
        lock (_gate)
        {
            if (countedAsCrash && _consecutiveFailures > 0)
            {
                _consecutiveFailures--;
                if (_consecutiveFailures < 2)
                {
                    _retryAt = null;
                }
            }

            RecordFailureLocked(failure, countsTowardsBackoff: false);
            _reconnects++;
            if (ReferenceEquals(_live, live))
            {
                wasCurrent = true;
                _live = null;
                _liveTools = null;
            }
        }

        Log.SessionLost(_rt.Logger, Id, method, target, ex.Message);
        if (wasCurrent)
        {
            await CloseAsync(live).ConfigureAwait(false);
        }

        return failure;

        static int? FindStatus(Exception? e)
        {
            for (; e is not null; e = e.InnerException)
            {
                if (e is HttpRequestException { StatusCode: { } code })
                {
                    return (int)code;
                }
            }

            return null;
        }
    }

    // ---------------------------------------------------------------- failures and backoff

    private void RecordFailureLocked(ServerFailure failure, bool countsTowardsBackoff)
    {
        _lastFailure = failure;
        if (!countsTowardsBackoff)
        {
            return;
        }

        _consecutiveFailures++;

        // A single failure never delays the next attempt; after that, exponential backoff with equal jitter.
        if (_consecutiveFailures < 2)
        {
            _retryAt = null;
            return;
        }

        var o = _rt.Options;
        _retryAt = _rt.Time.GetUtcNow() + Backoff.Delay(_consecutiveFailures - 2, o.RestartBackoff, o.MaxRestartBackoff, BackoffJitter.Equal);
    }

    private void OnSuccess()
    {
        if (Volatile.Read(ref _consecutiveFailures) == 0)
        {
            return;
        }

        lock (_gate)
        {
            _consecutiveFailures = 0;
            _retryAt = null;
        }
    }

    private ServerFailure ToFailure(HubException ex) =>
        new(ex.Code, ex.Message, ex.Failure?.At ?? _rt.Time.GetUtcNow())
        {
            ExitCode = ex.Failure?.ExitCode,
            StandardErrorTail = ex.Failure?.StandardErrorTail ?? [],
            HttpStatusCode = ex.Failure?.HttpStatusCode,
        };

    private static void ObserveFailure(Task task) =>
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    // ---------------------------------------------------------------- idle and closing

    private void EndUse()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            Volatile.Write(ref _lastUsed, _rt.Time.GetTimestamp());
            ArmIdleTimer();
        }
    }

    /// <summary>Arms the idle timer unless it is armed already: requests only stamp <see cref="_lastUsed"/>, and the timer re-arms itself for the remaining time when it fires early.</summary>
    private void ArmIdleTimer()
    {
        var idle = _budgets.Idle;
        if (idle == Timeout.InfiniteTimeSpan || Volatile.Read(ref _idleTimerArmed))
        {
            return;
        }

        lock (_gate)
        {
            if (_disposed || _idleTimerArmed)
            {
                return;
            }

            _idleTimerArmed = true;
            if (_idleTimer is null)
            {
                _idleTimer = _rt.Time.CreateTimer(static s => ((ServerSession)s!).OnIdle(), this, idle, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _idleTimer.Change(idle, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void OnIdle()
    {
        LiveConnection? toClose = null;
        lock (_gate)
        {
            _idleTimerArmed = false;
            if (_disposed || _live is not { } live)
            {
                return;
            }

            var idleFor = _rt.Time.GetElapsedTime(Volatile.Read(ref _lastUsed));
            if (Volatile.Read(ref _inFlight) > 0 || idleFor < _budgets.Idle)
            {
                // Used since the timer was armed: wait for the rest of the idle budget.
                _idleTimerArmed = true;
                _idleTimer!.Change(Volatile.Read(ref _inFlight) > 0 ? _budgets.Idle : _budgets.Idle - idleFor, Timeout.InfiniteTimeSpan);
                return;
            }

            toClose = live;
            _live = null;
        }

        if (toClose is not null)
        {
            Log.IdleDisconnect(_rt.Logger, Id);
            _ = CloseAsync(toClose).AsTask();
        }
    }

    private static async ValueTask CloseAsync(LiveConnection live)
    {
        live.ClosingOnPurpose = true;
        await live.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        LiveConnection? live;
        Task<LiveConnection>? connecting;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            live = _live;
            _live = null;
            connecting = _connecting;
            _idleTimer?.Dispose();
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        if (connecting is not null)
        {
            try
            {
                await connecting.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or HubException or ObjectDisposedException)
            {
            }
        }

        if (live is not null)
        {
            await CloseAsync(live).ConfigureAwait(false);
        }

        _disposing.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(3001, LogLevel.Information, "Connected to {ServerId} over {Transport} (protocol {ProtocolVersion}) in {ElapsedMs:0.0} ms")]
        public static partial void Connected(ILogger logger, string serverId, string transport, string? protocolVersion, double elapsedMs);

        [LoggerMessage(3002, LogLevel.Warning, "Could not connect to {ServerId} ({Code}): {Reason}")]
        public static partial void ConnectFailed(ILogger logger, string serverId, HubErrorCode code, string reason);

        [LoggerMessage(3003, LogLevel.Warning, "{Reason}")]
        public static partial void ServerCrashedCore(ILogger logger, string reason);

        [LoggerMessage(3004, LogLevel.Information, "Retrying {Method} on {ServerId} after a crash (attempt {Attempt})")]
        public static partial void RetryingAfterCrashCore(ILogger logger, string method, string serverId, int attempt);

        [LoggerMessage(3005, LogLevel.Debug, "Closing the idle connection to {ServerId}")]
        public static partial void IdleDisconnect(ILogger logger, string serverId);

        [LoggerMessage(3006, LogLevel.Debug, "{ServerId} announced a change of its {Kind}")]
        public static partial void ListChanged(ILogger logger, string serverId, HubListKind kind);

        [LoggerMessage(3007, LogLevel.Debug, "The subscriptions/listen stream of {ServerId} ended")]
        public static partial void ListenFailed(ILogger logger, string serverId, Exception exception);

        [LoggerMessage(3008, LogLevel.Warning, "{ServerId} no longer knows the hub's session (it restarted?) during {Method} {Target}: {Reason}; starting a new session")]
        public static partial void SessionLost(ILogger logger, string serverId, string method, string? target, string reason);

        [LoggerMessage(3009, LogLevel.Information, "Retrying {Method} on {ServerId} on a new session")]
        public static partial void RenewingSessionCore(ILogger logger, string method, string serverId);

        public static void RenewingSession(ILogger logger, string serverId, string method) => RenewingSessionCore(logger, method, serverId);

        public static void ServerCrashed(ILogger logger, string serverId, string reason) => ServerCrashedCore(logger, reason.Contains(serverId, StringComparison.Ordinal) ? reason : $"{serverId}: {reason}");

        public static void RetryingAfterCrash(ILogger logger, string serverId, string method, int attempt) => RetryingAfterCrashCore(logger, method, serverId, attempt + 1);
    }
}
