using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Mmcp.Client;
using Mmcp.Gateway.Sessions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.Aggregation;

/// <summary>Who made a tool call on a shared upstream connection: the downstream request (its own stream) and its session.</summary>
/// <param name="Target">The request-bound server of the downstream request: questions sent to it travel on that request's stream.</param>
/// <param name="SessionKey">The downstream session (its id, or a key of the request's own for a stateless request).</param>
/// <param name="Capabilities">The capabilities that downstream client declared.</param>
internal sealed record CallOrigin(McpServer Target, string SessionKey, ClientCapabilities? Capabilities)
{
    /// <summary>Gets whether the client may be asked something (sampling, elicitation or roots): then its calls hold the server's lane alone.</summary>
    public bool CanBeAsked => CanAsk(Capabilities);

    /// <summary>Returns whether a client with these capabilities may be asked something by a server.</summary>
#pragma warning disable MCP9005 // sampling and roots are deprecated by 2026-07-28 but live on 2025-era sessions
    public static bool CanAsk(ClientCapabilities? c) => c is not null && (c.Sampling is not null || c.Elicitation is not null || c.Roots is not null);
#pragma warning restore MCP9005

    /// <summary>Returns the origin of a downstream request.</summary>
    public static CallOrigin For<TParams>(RequestContext<TParams> request)
        where TParams : RequestParams =>
        new(request.Server, request.Server.SessionId ?? $"request-{Guid.NewGuid():N}", request.Server.ClientCapabilities);
}

/// <summary>
/// The traffic an upstream server starts on the hub's shared connection, routed to the <c>/mcp</c> sessions it belongs
/// to. Server-to-client requests (sampling, elicitation, roots) go to the session whose tool call caused them: the
/// shared connection's messages carry no link to the call that caused them (stdio has no per-request stream), so the
/// calls of a session that can be asked something hold that server's lane alone (calls of other sessions wait), and a
/// request is always attributable. Log messages go to the session whose calls are in flight, else to every
/// aggregated session, tagged with the server id and filtered by each session's <c>logging/setLevel</c>; resource
/// updates go to the sessions that subscribed.
/// </summary>
internal sealed partial class UpstreamTraffic
{
    private const string PlainGroup = "";
    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<McpServer, SessionOutbox?> _sessions = new();
    private readonly ConcurrentDictionary<string, McpServer> _byId = new(StringComparer.Ordinal);
    private readonly Lock _subscriptionsGate = new();
    private readonly Dictionary<(string ServerId, string Uri), HashSet<McpServer>> _subscriptions = [];
    private readonly ConcurrentDictionary<(string ServerId, string Uri), IAsyncDisposable> _upstream = new();
    private readonly ILogger _logger;

    public UpstreamTraffic(MmcpHub hub, ILogger<UpstreamTraffic> logger)
    {
        _logger = logger;
#pragma warning disable MCP9005 // sampling and roots are deprecated by 2026-07-28 but live on 2025-era sessions
        hub.ServerRequests ??= new HubServerRequests
        {
            Sampling = (serverId, p, ct) => AskAsync(serverId, "sampling/createMessage", "sampling", c => c.Sampling is not null, t => t.SampleAsync(p, ct)),
            Elicitation = (serverId, p, ct) => AskAsync(serverId, "elicitation/create", "elicitation", c => c.Elicitation is not null, t => t.ElicitAsync(p, ct)),
            Roots = (serverId, p, ct) => AskAsync(serverId, "roots/list", "roots", c => c.Roots is not null, t => t.RequestRootsAsync(p, ct)),
            Notification = OnNotification,
        };
#pragma warning restore MCP9005
    }

    /// <summary>Counts an aggregated session in (for broadcasts) until it ends; what it is sent on its own goes through <paramref name="outbox"/> (held until its GET stream opens).</summary>
    public void AddSession(McpServer session, SessionOutbox? outbox)
    {
        _sessions.TryAdd(session, outbox);
        if (session.SessionId is { } id)
        {
            _byId[id] = session;
        }
    }

    /// <summary>Returns the running session with that id (not a request-bound view of it), or <see langword="null"/>.</summary>
    public McpServer? Session(string? sessionId) => sessionId is not null && _byId.TryGetValue(sessionId, out var session) ? session : null;

    /// <summary>Forgets a session that ended, and drops its subscriptions.</summary>
    public IReadOnlyList<(string ServerId, string Uri)> RemoveSession(McpServer session)
    {
        _sessions.TryRemove(session, out _);
        if (session.SessionId is { } id)
        {
            _byId.TryRemove(new KeyValuePair<string, McpServer>(id, session));
        }
        var orphaned = new List<(string, string)>();
        lock (_subscriptionsGate)
        {
            foreach (var (key, subscribers) in _subscriptions)
            {
                if (subscribers.Remove(session) && subscribers.Count == 0)
                {
                    orphaned.Add(key);
                }
            }

            foreach (var key in orphaned)
            {
                _subscriptions.Remove(key);
            }
        }

        return orphaned;
    }

    /// <summary>Keeps the upstream subscription of a resource (the first subscriber made it).</summary>
    public void SetUpstream(string serverId, string uri, IAsyncDisposable subscription) => _upstream[(serverId, uri)] = subscription;

    /// <summary>Ends the upstream subscription of a resource nobody subscribes to any more.</summary>
    public async Task EndUpstreamAsync(string serverId, string uri)
    {
        if (_upstream.TryRemove((serverId, uri), out var subscription))
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Enters the lane of a server for one tool call; dispose the lease when the call ended.</summary>
    public ValueTask<Lease> EnterAsync(string serverId, CallOrigin? origin, CancellationToken cancellationToken) =>
        _lanes.GetOrAdd(serverId, static _ => new Lane()).EnterAsync(origin, cancellationToken);

    /// <summary>Adds a subscriber; returns whether it is the first for that resource (then subscribe upstream).</summary>
    public bool Subscribe(string serverId, string uri, McpServer session)
    {
        lock (_subscriptionsGate)
        {
            if (!_subscriptions.TryGetValue((serverId, uri), out var subscribers))
            {
                _subscriptions[(serverId, uri)] = subscribers = [];
            }

            subscribers.Add(session);
            return subscribers.Count == 1;
        }
    }

    /// <summary>Removes a subscriber; returns whether it was the last for that resource (then unsubscribe upstream).</summary>
    public bool Unsubscribe(string serverId, string uri, McpServer session)
    {
        lock (_subscriptionsGate)
        {
            if (!_subscriptions.TryGetValue((serverId, uri), out var subscribers) || !subscribers.Remove(session))
            {
                return false;
            }

            if (subscribers.Count == 0)
            {
                _subscriptions.Remove((serverId, uri));
                return true;
            }

            return false;
        }
    }

    /// <summary>
    /// Removes a session's subscriptions to a URI, whichever server they are with (the server may be denied by now, or
    /// gone); returns the servers it was the last subscriber of (then unsubscribe upstream).
    /// </summary>
    public IReadOnlyList<string> Unsubscribe(string uri, McpServer session)
    {
        var orphaned = new List<string>();
        lock (_subscriptionsGate)
        {
            foreach (var ((serverId, subscribed), subscribers) in _subscriptions.ToList())
            {
                if (subscribed == uri && subscribers.Remove(session) && subscribers.Count == 0)
                {
                    _subscriptions.Remove((serverId, uri));
                    orphaned.Add(serverId);
                }
            }
        }

        return orphaned;
    }

    private async ValueTask<TResult> AskAsync<TResult>(string serverId, string method, string capability, Func<ClientCapabilities, bool> declared, Func<McpServer, ValueTask<TResult>> ask)
    {
        var lane = _lanes.GetOrAdd(serverId, static _ => new Lane());
        var (origin, plainCalls) = lane.Owner();
        if (origin is null)
        {
            var why = plainCalls > 0
                ? $"the client session{(plainCalls > 1 ? "s" : string.Empty)} whose tool call{(plainCalls > 1 ? "s are" : " is")} in flight on '{serverId}' did not declare the '{capability}' capability"
                : $"no tool call of a client session is in flight on '{serverId}', so no client can be asked";
            Log.Refused(_logger, method, serverId, why);
            throw new McpProtocolException($"The Mmcp gateway cannot forward {method}: {why}.", McpErrorCode.MethodNotFound);
        }

        if (origin.Capabilities is not { } caps || !declared(caps))
        {
            Log.Refused(_logger, method, serverId, "the calling session did not declare it");
            throw new McpProtocolException($"The Mmcp gateway cannot forward {method}: the client session whose tool call caused it did not declare the '{capability}' capability.", McpErrorCode.MethodNotFound);
        }

        return await ask(origin.Target).ConfigureAwait(false);
    }

    /// <summary>Gets or sets which servers' notifications go to no client (the user denied them).</summary>
    public Func<string, bool>? Hidden { get; set; }

    private void OnNotification(string serverId, string method, JsonNode? parameters)
    {
        if (Hidden?.Invoke(serverId) == true)
        {
            return;
        }

#pragma warning disable MCP9005 // logging is deprecated by 2026-07-28 but lives on 2025-era sessions
        if (method == NotificationMethods.LoggingMessageNotification)
        {
            ForwardLog(serverId, parameters);
        }
#pragma warning restore MCP9005
        else if (method == NotificationMethods.ResourceUpdatedNotification && parameters?["uri"]?.GetValueKind() == JsonValueKind.String)
        {
            McpServer[] subscribers;
            lock (_subscriptionsGate)
            {
                subscribers = _subscriptions.TryGetValue((serverId, parameters["uri"]!.GetValue<string>()), out var set) ? [.. set] : [];
            }

            foreach (var session in subscribers)
            {
                _ = SendAsync(session, method, parameters.DeepClone());
            }
        }
    }

    private void ForwardLog(string serverId, JsonNode? parameters)
    {
        if (parameters is not JsonObject p)
        {
            return;
        }

        // The server id tags every message: "<serverId>", or "<serverId>/<logger>" when the server named one.
        p["logger"] = p["logger"]?.GetValueKind() == JsonValueKind.String ? $"{serverId}/{p["logger"]!.GetValue<string>()}" : serverId;
        var level = p["level"]?.GetValueKind() == JsonValueKind.String && TryParseLevel(p["level"]!.GetValue<string>(), out var l) ? l : LoggingLevel.Info;

        // To the session whose calls are in flight (on the call's own stream), else to every aggregated session.
        McpServer[] targets = _lanes.TryGetValue(serverId, out var lane) && lane.SoleSession() is { } origin ? [origin.Target] : [.. _sessions.Keys];
        foreach (var target in targets)
        {
            if (target.LoggingLevel is { } minimum && level < minimum)
            {
                continue;
            }

            _ = SendAsync(target, NotificationMethods.LoggingMessageNotification, p.DeepClone());
        }
    }

    private static bool TryParseLevel(string value, out LoggingLevel level)
    {
        LoggingLevel? known = value switch
        {
            "debug" => LoggingLevel.Debug,
            "info" => LoggingLevel.Info,
            "notice" => LoggingLevel.Notice,
            "warning" => LoggingLevel.Warning,
            "error" => LoggingLevel.Error,
            "critical" => LoggingLevel.Critical,
            "alert" => LoggingLevel.Alert,
            "emergency" => LoggingLevel.Emergency,
            _ => null,
        };
        level = known ?? LoggingLevel.Info;
        return known is not null;
    }

    private async Task SendAsync(McpServer session, string method, JsonNode? parameters)
    {
        try
        {
            // A session (not a request's own stream) is pushed to through its outbox: held until its GET stream opens.
            var notification = new JsonRpcNotification { Method = method, Params = parameters };
            await (_sessions.TryGetValue(session, out var outbox) && outbox is not null ? outbox.SendAsync(notification) : session.SendMessageAsync(notification)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or McpException or JsonException)
        {
            Log.ForwardFailed(_logger, method, ex);
        }
    }

    /// <summary>A call's place in a server's lane; disposing it lets the next calls in.</summary>
    internal readonly struct Lease(Lane? lane, CallOrigin? origin) : IDisposable
    {
        public void Dispose() => lane?.Leave(origin);
    }

    /// <summary>
    /// The calls in flight on one server's shared connection. Calls of sessions that cannot be asked anything share it;
    /// the calls of a session that can be asked hold it alone. Waiting calls are let in first come, first served.
    /// </summary>
    internal sealed class Lane
    {
        private readonly Lock _gate = new();
        private readonly List<CallOrigin?> _inFlight = [];
        private readonly LinkedList<Waiter> _waiting = [];
        private string? _owner;

        public ValueTask<Lease> EnterAsync(CallOrigin? origin, CancellationToken cancellationToken)
        {
            var group = origin is { CanBeAsked: true } ? origin.SessionKey : PlainGroup;
            Waiter waiter;
            lock (_gate)
            {
                // A session that can be asked may call again while it answers a question (its earlier call waits for
                // the answer): it gets in even when others wait. Other sessions queue behind waiters, first come first served.
                if (_owner is null || (_owner == group && (group != PlainGroup || _waiting.Count == 0)))
                {
                    _owner = group;
                    _inFlight.Add(origin);
                    return new ValueTask<Lease>(new Lease(this, origin));
                }

                waiter = new Waiter(group, origin);
                waiter.Node = _waiting.AddLast(waiter);
            }

            return WaitAsync(waiter, cancellationToken);
        }

        public void Leave(CallOrigin? origin)
        {
            List<Waiter>? admitted = null;
            lock (_gate)
            {
                _inFlight.Remove(origin);
                if (_inFlight.Count > 0)
                {
                    return;
                }

                _owner = null;
                if (_waiting.First is { } first)
                {
                    // Let in the first waiter and every waiter of its group.
                    _owner = first.Value.Group;
                    admitted = [];
                    for (var node = _waiting.First; node is not null;)
                    {
                        var next = node.Next;
                        if (node.Value.Group == _owner)
                        {
                            _waiting.Remove(node);
                            node.Value.Node = null;
                            _inFlight.Add(node.Value.Origin);
                            admitted.Add(node.Value);
                        }

                        node = next;
                    }
                }
            }

            foreach (var waiter in admitted ?? [])
            {
                waiter.Admitted.TrySetResult();
            }
        }

        /// <summary>Returns the origin a server-to-client request belongs to (the latest call of the session holding the lane), and how many calls of sessions that cannot be asked are in flight.</summary>
        public (CallOrigin? Origin, int PlainCalls) Owner()
        {
            lock (_gate)
            {
                if (_owner is null or PlainGroup)
                {
                    return (null, _inFlight.Count);
                }

                return (_inFlight.FindLast(o => o is not null), 0);
            }
        }

        /// <summary>Returns the latest call's origin when every call in flight belongs to one session, else <see langword="null"/>.</summary>
        public CallOrigin? SoleSession()
        {
            lock (_gate)
            {
                if (_inFlight.Count == 0 || _inFlight[^1] is not { } last)
                {
                    return null;
                }

                foreach (var o in _inFlight)
                {
                    if (o is null || o.SessionKey != last.SessionKey)
                    {
                        return null;
                    }
                }

                return last;
            }
        }

        private async ValueTask<Lease> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
        {
            await using (cancellationToken.Register(() => Abandon(waiter)).ConfigureAwait(false))
            {
                await waiter.Admitted.Task.ConfigureAwait(false);
            }

            return new Lease(this, waiter.Origin);
        }

        private void Abandon(Waiter waiter)
        {
            lock (_gate)
            {
                if (waiter.Node is not { } node)
                {
                    return; // already let in: the caller leaves normally
                }

                _waiting.Remove(node);
                waiter.Node = null;
            }

            waiter.Admitted.TrySetCanceled();
        }

        private sealed class Waiter(string group, CallOrigin? origin)
        {
            public string Group { get; } = group;

            public CallOrigin? Origin { get; } = origin;

            public TaskCompletionSource Admitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public LinkedListNode<Waiter>? Node { get; set; }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4501, LogLevel.Information, "Refused {Method} from {ServerId}: {Reason}")]
        public static partial void Refused(ILogger logger, string method, string serverId, string reason);

        [LoggerMessage(4502, LogLevel.Debug, "Could not forward {Method} to a session")]
        public static partial void ForwardFailed(ILogger logger, string method, Exception exception);
    }
}
