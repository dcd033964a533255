using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Gateway.Fronts;
using Mmcp.Gateway.Security;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.Sessions;

/// <summary>How the direct lane runs a plain tools/call of a session (see <see cref="JsonRpcFront"/>).</summary>
internal delegate ValueTask<CallToolResult> DirectCall(GatewayCaller caller, CallToolRequestParams parameters, CancellationToken cancellationToken);

/// <summary>Which limit refused a new session (see <see cref="SessionDirectory.TryReserve"/>).</summary>
internal enum SessionLimit
{
    None,

    /// <summary><see cref="MmcpGatewayOptions.MaxSessionsPerCaller"/>.</summary>
    PerCaller,

    /// <summary><see cref="MmcpGatewayOptions.MaxDedicatedSessionsPerCaller"/>.</summary>
    DedicatedPerCaller,

    /// <summary><see cref="MmcpGatewayOptions.MaxDedicatedSessions"/>.</summary>
    Dedicated,
}

/// <summary>
/// A session's place in the counts, taken before the session exists (when its <c>initialize</c> arrives) and given
/// back once: by the request when no session came of it, else when the session ends.
/// </summary>
internal sealed class SessionSlot
{
    private readonly SessionDirectory _directory;
    private int _state; // 0 reserved, 1 claimed by a session, 2 released

    public SessionSlot(SessionDirectory directory, string caller, bool dedicated)
    {
        _directory = directory;
        Caller = caller;
        Dedicated = dedicated;
    }

    /// <summary>Gets whose count it is in: a token id, or <see cref="SessionDirectory.LocalCaller"/>.</summary>
    public string Caller { get; }

    /// <summary>Gets whether it holds one of the dedicated upstream sessions.</summary>
    public bool Dedicated { get; }

    /// <summary>Hands the slot to a session, which releases it when it ends.</summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;

    /// <summary>Gives the slot back unless a session claimed it.</summary>
    public void ReleaseUnclaimed()
    {
        if (Interlocked.CompareExchange(ref _state, 2, 0) == 0)
        {
            _directory.Release(this);
        }
    }

    /// <summary>Gives the slot back (the session ended).</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _state, 2) != 2)
        {
            _directory.Release(this);
        }
    }
}

/// <summary>A live 2025-era MCP session as the gateway knows it.</summary>
/// <param name="route">The endpoint that created it.</param>
/// <param name="owner">The token id of the caller that created it (<see langword="null"/> for a local caller without a token).</param>
/// <param name="createdAt">When it was created (a <see cref="TimeProvider"/> timestamp).</param>
/// <param name="call">How the direct lane calls a tool for it, or <see langword="null"/> when every call goes through the SDK.</param>
internal sealed class GatewaySession(GatewayRoute route, string? owner, long createdAt, DirectCall? call) : IDisposable
{
    private readonly CancellationTokenSource _reaped = new();
    private long _sdkSeenAt = createdAt;
    private long _activeAt = createdAt;
    private int _requests; // requests of the session the gateway is serving (an open GET stream counts); negative once reaped

    public GatewayRoute Route { get; } = route;

    public string? Owner { get; } = owner;

    /// <summary>Gets the token of the caller that created it, whose revocation or expiry ends the session (<see langword="null"/> for a local caller without a token).</summary>
    public GatewayToken? OwnerToken { get; init; }

    public DirectCall? Call { get; } = call;

    /// <summary>Gets what the gateway pushes to the session on its own, held until its GET stream opens.</summary>
    public required SessionOutbox Outbox { get; init; }

    /// <summary>Gets the slot the session holds in the counts, or <see langword="null"/>.</summary>
    public SessionSlot? Slot { get; init; }

    /// <summary>Gets whether the session has an upstream session of its own (a process, for a stdio server).</summary>
    public bool Dedicated => Slot?.Dedicated == true;

    /// <summary>Gets when the SDK last handled a request of this session (its idle clock restarts then).</summary>
    public long SdkSeenAt => Interlocked.Read(ref _sdkSeenAt);

    /// <summary>Gets when the last request of the session ended (or when it was created), as a <see cref="TimeProvider"/> timestamp.</summary>
    public long ActiveAt => Interlocked.Read(ref _activeAt);

    /// <summary>Gets whether a request of the session is being served (an open GET stream counts).</summary>
    public bool IsBusy => Volatile.Read(ref _requests) > 0;

    /// <summary>Gets a token cancelled when the gateway ends the session: its client went away (reaped), or its caller lost the right to it (<see cref="End"/>).</summary>
    public CancellationToken Reaped => _reaped.Token;

    /// <summary>Gets the calls the direct lane is running for this session, by JSON-RPC id (for <c>notifications/cancelled</c>).</summary>
    public ConcurrentDictionary<RequestId, CancellationTokenSource> DirectCalls { get; } = new();

    /// <summary>
    /// Gets the requests of this session the SDK is answering on their own POST's stream, by JSON-RPC id: a
    /// <c>notifications/cancelled</c> for one ends its stream (the SDK's waits for an answer MCP does not send).
    /// </summary>
    public ConcurrentDictionary<RequestId, CancellationTokenSource> SdkStreams { get; } = new();

    public void SdkSeen(long timestamp) => Interlocked.Exchange(ref _sdkSeenAt, timestamp);

    /// <summary>Counts a request of the session in; returns <see langword="false"/> when the session was reaped meanwhile.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _requests) > 0)
        {
            return true;
        }

        Interlocked.Decrement(ref _requests);
        return false;
    }

    public void Exit(long timestamp)
    {
        Interlocked.Exchange(ref _activeAt, timestamp);
        Interlocked.Decrement(ref _requests);
    }

    /// <summary>Marks the session reaped when no request of it is being served; from then on no request enters.</summary>
    public bool TryReap()
    {
        if (Interlocked.CompareExchange(ref _requests, int.MinValue / 2, 0) != 0)
        {
            return false;
        }

        try
        {
            _reaped.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended meanwhile.
        }

        return true;
    }

    /// <summary>
    /// Ends the session now, whatever it is serving: no request enters from then on, and the requests in flight (the
    /// GET stream among them) are aborted by whoever registered on <see cref="Reaped"/>. For a caller that lost the right
    /// to the session; a client that merely went away is reaped instead (<see cref="TryReap"/>).
    /// </summary>
    /// <returns>Whether this call ended it (not ended or reaped before).</returns>
    public bool End()
    {
        while (true)
        {
            var requests = Volatile.Read(ref _requests);
            if (requests < 0)
            {
                return false; // ended or reaped already
            }

            // The requests in flight count down from there as they exit: the count stays negative, and nothing enters.
            if (Interlocked.CompareExchange(ref _requests, requests + (int.MinValue / 2), requests) == requests)
            {
                break;
            }
        }

        try
        {
            _reaped.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended meanwhile.
        }

        return true;
    }

    public void Dispose()
    {
        Outbox.Close();
        _reaped.Dispose();
    }
}

/// <summary>
/// The live 2025-era MCP sessions: which endpoint and caller each belongs to, the aggregated ones that get
/// <c>list_changed</c> pushed, how many each caller holds, and which dedicated ones their client abandoned.
/// </summary>
internal sealed partial class SessionDirectory : IDisposable
{
    /// <summary>The count of local callers without a token (they are one caller to the limits).</summary>
    public const string LocalCaller = "local";

    private readonly ConcurrentDictionary<string, GatewaySession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<McpServer, SessionOutbox?> _aggregated = new();
    private readonly Dictionary<string, CallerCount> _callers = new(StringComparer.Ordinal);
    private readonly Lock _countGate = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _abandoned;
    private readonly ILogger _logger;
    private readonly TokenStore _tokens;
    private readonly Client.Consent.ConsentStore _consent;
    private ITimer? _sweep;
    private ITimer? _ownerCheck;
    private int _dedicated;

    public SessionDirectory(TimeProvider time, IOptions<MmcpGatewayOptions> options, ILogger<SessionDirectory> logger, TokenStore tokens, Client.Consent.ConsentStore consent)
    {
        _time = time;
        _logger = logger;
        _abandoned = options.Value.AbandonedSessionTimeout;
        _tokens = tokens;
        _consent = consent;
    }

    /// <summary>How often the sessions' rights are looked at: a revoked or expired token's sessions, and the sessions of a server the user denied, end within this.</summary>
    public static TimeSpan OwnerCheckPeriod { get; } = TimeSpan.FromSeconds(1);

    public int Count => _sessions.Count;

    public int DedicatedCount => Volatile.Read(ref _dedicated);

    /// <summary>Returns the key a caller is counted under: its token id, or <see cref="LocalCaller"/>.</summary>
    public static string CallerOf(string? owner) => owner ?? LocalCaller;

    /// <summary>Returns the number of sessions a caller holds (and of those, dedicated ones).</summary>
    public (int Sessions, int Dedicated) CountOf(string caller)
    {
        lock (_countGate)
        {
            return _callers.TryGetValue(caller, out var count) ? (count.Sessions, count.Dedicated) : (0, 0);
        }
    }

    /// <summary>
    /// Takes a place for a new session of <paramref name="caller"/> within the limits; a dedicated one (its own
    /// upstream session) counts against <paramref name="maxDedicated"/> and <paramref name="maxDedicatedPerCaller"/> too.
    /// </summary>
    /// <returns>The limit that refused it, or <see cref="SessionLimit.None"/> with the slot.</returns>
    public SessionLimit TryReserve(string caller, bool dedicated, int maxPerCaller, int maxDedicatedPerCaller, int maxDedicated, out SessionSlot? slot)
    {
        slot = null;
        lock (_countGate)
        {
            _callers.TryGetValue(caller, out var count);
            if (count.Sessions >= maxPerCaller)
            {
                return SessionLimit.PerCaller;
            }

            if (dedicated && count.Dedicated >= maxDedicatedPerCaller)
            {
                return SessionLimit.DedicatedPerCaller;
            }

            if (dedicated && _dedicated >= maxDedicated)
            {
                return SessionLimit.Dedicated;
            }

            _callers[caller] = new CallerCount(count.Sessions + 1, count.Dedicated + (dedicated ? 1 : 0));
            if (dedicated)
            {
                _dedicated++;
            }
        }

        slot = new SessionSlot(this, caller, dedicated);
        return SessionLimit.None;
    }

    /// <summary>Takes a place without looking at the limits (a session that came without a reservation).</summary>
    public SessionSlot ReserveUnchecked(string caller)
    {
        TryReserve(caller, dedicated: false, int.MaxValue, int.MaxValue, int.MaxValue, out var slot);
        return slot!;
    }

    internal void Release(SessionSlot slot)
    {
        lock (_countGate)
        {
            if (_callers.TryGetValue(slot.Caller, out var count))
            {
                count = new CallerCount(count.Sessions - 1, count.Dedicated - (slot.Dedicated ? 1 : 0));
                if (count.Sessions <= 0)
                {
                    _callers.Remove(slot.Caller);
                }
                else
                {
                    _callers[slot.Caller] = count;
                }
            }

            if (slot.Dedicated)
            {
                _dedicated--;
            }
        }
    }

    public GatewaySession Register(string sessionId, GatewayRoute route, GatewayToken? owner, DirectCall? call, SessionSlot? slot)
    {
        var session = new GatewaySession(route, owner?.Id, _time.GetTimestamp(), call) { Slot = slot, OwnerToken = owner, Outbox = new SessionOutbox(sessionId, _logger) };
        _sessions[sessionId] = session;
        if ((owner is not null || route.ServerId is not null) && _ownerCheck is null)
        {
            var timer = Shared.Telemetry.Detached.Start(() => _time.CreateTimer(static s => ((SessionDirectory)s!).CheckOwners(), this, OwnerCheckPeriod, OwnerCheckPeriod));
            if (Interlocked.CompareExchange(ref _ownerCheck, timer, null) is not null)
            {
                timer.Dispose();
            }
        }

        if (session.Dedicated && _sweep is null)
        {
            // Dedicated sessions hold an upstream session (a process) each: look for abandoned ones a few times per window.
            var period = _abandoned / 4;
            var timer = Shared.Telemetry.Detached.Start(() => _time.CreateTimer(static s => ((SessionDirectory)s!).Sweep(), this, period, period));
            if (Interlocked.CompareExchange(ref _sweep, timer, null) is not null)
            {
                timer.Dispose();
            }
        }

        return session;
    }

    public void Unregister(string sessionId)
    {
        if (_sessions.TryRemove(sessionId, out var session))
        {
            foreach (var call in session.DirectCalls.Values)
            {
                CancelQuietly(call);
            }

            session.Slot?.Release();
            session.Dispose();
        }
    }

    public bool TryGet(string sessionId, out GatewaySession session) => _sessions.TryGetValue(sessionId, out session!);

    /// <summary>
    /// Returns whether the session is live and may be used on <paramref name="route"/>. Every session of the gateway's
    /// endpoints is registered before its id reaches the client, so an unknown id is one that ended (deleted, timed
    /// out, reaped, or its upstream went away), even while the SDK still holds its remains.
    /// </summary>
    public bool BelongsTo(string sessionId, GatewayRoute route) => _sessions.TryGetValue(sessionId, out var session) && session.Route == route;

    /// <summary>Notes that a request of the session goes to the SDK, which restarts the session's idle clock.</summary>
    public void SdkSeen(string sessionId)
    {
        if (_sessions.TryGetValue(sessionId, out var session))
        {
            session.SdkSeen(_time.GetTimestamp());
        }
    }

    /// <summary>Returns whether the SDK handled a request of the session less than <paramref name="within"/> ago.</summary>
    public bool SdkSeenWithin(GatewaySession session, TimeSpan within) => _time.GetElapsedTime(session.SdkSeenAt) < within;

    /// <summary>Ends a request of the session that <see cref="GatewaySession.TryEnter"/> counted in; its abandonment clock restarts.</summary>
    public void Exit(GatewaySession session) => session.Exit(_time.GetTimestamp());

    public void AddAggregated(McpServer server, SessionOutbox? outbox) => _aggregated.TryAdd(server, outbox);

    public void RemoveAggregated(McpServer server) => _aggregated.TryRemove(server, out _);

    /// <summary>Gets the running aggregated sessions, each with what it is pushed through (see <see cref="SessionOutbox"/>; none for a session the directory does not know).</summary>
    public IEnumerable<KeyValuePair<McpServer, SessionOutbox?>> Aggregated => _aggregated;

    public void Dispose()
    {
        _sweep?.Dispose();
        _ownerCheck?.Dispose();
    }

    /// <summary>
    /// Ends the sessions whose caller's token expired, or was revoked (a token of the gateway's store that the store no
    /// longer holds), and the sessions of a server's own endpoint once the user denied that server: open GET streams and
    /// requests in flight included, so nothing reaches a caller that lost the right to it (server logs, resource
    /// updates, list changes). OAuth tokens end at their expiry.
    /// </summary>
    private void CheckOwners()
    {
        foreach (var (id, session) in _sessions)
        {
            if (session.OwnerToken is { } token)
            {
                var gone = _tokens.Gone(token);
                if (gone is not null && session.End())
                {
                    Log.OwnerGone(_logger, id, token.Id, gone);
                    continue;
                }
            }

            if (session.Route.ServerId is { } serverId && Aggregation.GatewayCatalog.IsServerDenied(_consent, serverId) && session.End())
            {
                Log.ServerDenied(_logger, id, serverId);
            }
        }
    }

    /// <summary>
    /// Ends the dedicated sessions whose client went away: no request in flight, no GET stream open, and nothing
    /// for <see cref="MmcpGatewayOptions.AbandonedSessionTimeout"/>. Their upstream session (process) ends with them.
    /// </summary>
    private void Sweep()
    {
        foreach (var (id, session) in _sessions)
        {
            // From then on its requests are answered 404 (which tells a client to start a new session), and the
            // session's run ends, which closes its upstream session and unregisters it.
            if (session.Dedicated && !session.IsBusy && _time.GetElapsedTime(session.ActiveAt) >= _abandoned && session.TryReap())
            {
                Log.Abandoned(_logger, id, session.Route.ServerId ?? string.Empty, _abandoned);
            }
        }
    }

    private static void CancelQuietly(CancellationTokenSource call)
    {
        try
        {
            call.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call ended meanwhile.
        }
    }

    private readonly record struct CallerCount(int Sessions, int Dedicated);

    private static partial class Log
    {
        [LoggerMessage(4311, LogLevel.Information, "Closed pass-through session {SessionId} of {ServerId} and its upstream session: its client held no stream and sent nothing for {Window} (AbandonedSessionTimeout)")]
        public static partial void Abandoned(ILogger logger, string sessionId, string serverId, TimeSpan window);

        [LoggerMessage(4312, LogLevel.Information, "Ended session {SessionId} and its open streams: the token {TokenId} that opened it was {Reason}")]
        public static partial void OwnerGone(ILogger logger, string sessionId, string tokenId, string reason);

        [LoggerMessage(4313, LogLevel.Information, "Ended session {SessionId} of {ServerId} and its open streams: the user denied the server")]
        public static partial void ServerDenied(ILogger logger, string sessionId, string serverId);
    }
}
