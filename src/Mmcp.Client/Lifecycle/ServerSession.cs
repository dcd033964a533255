using Microsoft.Extensions.Logging;
using Mmcp.Core.Registry;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

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
    private static readonly TimeSpan StableUptimeFloor = TimeSpan.FromMinutes(1);
    private static long _nextConnection;
    private static long _nextRequest;
    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<ProgressNotificationParams> ProgressParamsType =
        McpJsonUtilities.GetTypeInfo<ProgressNotificationParams>(McpJsonUtilities.DefaultOptions);

    private readonly HubRuntime _rt;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly RestartBackoff _backoff;

    // Progress tokens of calls in flight. Progress is routed as the transport reads it, in order: the SDK runs
    // notification handlers concurrently with the response, so a handler could see a call's last progress only after
    // the call had returned (and its caller had sent the result on).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IProgress<ProgressNotificationValue>> _progress = new(StringComparer.Ordinal);
    private DiscoveredServer _server;
    private ServerBudgets _budgets;
    private LiveConnection? _live;
    private Task<LiveConnection>? _connecting;
    private int _reconnects;
    private ServerFailure? _lastFailure;
    private bool _refused; // the server refused this client last (signed out, revoked, a permission removed): its known lists are not shown
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
        var o = runtime.Options;
        _backoff = new RestartBackoff(o.RestartBackoff, o.MaxRestartBackoff, StableUptime(o.MaxRestartBackoff), runtime.Time);
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
                    : _backoff.IsBackingOff(out _) ? ServerState.BackingOff
                    : ServerState.Disconnected;
                return new ServerStatus(state, _backoff.ConsecutiveFailures, _lastFailure)
                {
                    Reconnects = _reconnects,
                    RetryAt = state == ServerState.BackingOff ? _backoff.RetryAt : null,
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
            _refused = false;
            _backoff.Reset();
            _toolsVersion++;
        }

        if (toClose is not null)
        {
            await CloseAsync(toClose).ConfigureAwait(false);
        }

        _rt.ListChanged?.Invoke(Id, HubListKind.Tools);
    }

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
                _idleTimer = Shared.Telemetry.Detached.Start(() => _rt.Time.CreateTimer(static s => ((ServerSession)s!).OnIdle(), this, idle, Timeout.InfiniteTimeSpan));
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
        [LoggerMessage(3010, LogLevel.Warning, "Server {ServerId}: request failed for method '{Method}': {ErrorMessage} ({ErrorCode}).")]
        public static partial void CallFailedRemotely(ILogger logger, string serverId, string method, string errorMessage, int errorCode);

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
