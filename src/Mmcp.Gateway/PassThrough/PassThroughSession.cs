using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Mmcp.Client;
using Mmcp.Gateway.Aggregation;
using Mmcp.Gateway.Errors;
using Mmcp.Gateway.Security;
using Mmcp.Gateway.Sessions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.PassThrough;

/// <summary>
/// One 2025-era session on <c>/servers/{id}/mcp</c> with an upstream session of its own, so everything that is
/// session state upstream reaches this client and no other: server-to-client requests (sampling, elicitation, roots)
/// go to the request that caused them (on its own stream), logging and progress notifications to the request they
/// belong to, resource updates and list changes to the session; subscriptions, the logging level and cancellation
/// pass upstream. Requests and results keep the server's own names, codes and fields.
/// </summary>
internal sealed partial class PassThroughSession : IAsyncDisposable
{
    private readonly GatewayCatalog _catalog;
    private readonly DedicatedConnectionOptions _connection;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly List<InFlight> _inFlight = [];
    private readonly SemaphoreSlim _renewing = new(1, 1);
    private readonly CancellationTokenSource _ended = new();
    private readonly HashSet<string> _subscriptions = new(StringComparer.Ordinal);
    private HubServerConnection _upstream;
    private LoggingLevel? _logLevel;
    private McpServer? _session;
    private SessionOutbox? _outbox;
    private long _nextRequest;
    private bool _disposed;

    private PassThroughSession(HubServerConnection upstream, DedicatedConnectionOptions connection, GatewayCatalog catalog, ILogger logger, ClientCapabilities? downstream)
    {
        _upstream = upstream;
        _connection = connection;
        _catalog = catalog;
        _logger = logger;

        // A call that may make the server ask the client something (sampling, elicitation, roots) needs the request's
        // own stream for the question; without those capabilities a plain call can take the direct lane.
        CanCallDirectly = downstream?.Sampling is null && downstream?.Elicitation is null && downstream?.Roots is null;
    }

    /// <summary>Gets whether a plain tools/call of this session may be answered by the direct lane (<see cref="CallDirectAsync"/>).</summary>
    public bool CanCallDirectly { get; }

    public string ServerId { get; private init; } = string.Empty;

    public static async Task<PassThroughSession> OpenAsync(GatewayCatalog catalog, string serverId, InitializeRequestParams? initialize, ILogger logger, CancellationToken cancellationToken)
    {
        PassThroughSession? session = null;
        var downstream = initialize?.Capabilities;
        var connection = new DedicatedConnectionOptions
        {
            ConfigureClient = o =>
            {
                // Same era as the client (session-based), same identity and the same client capabilities.
                o.ProtocolVersion = initialize?.ProtocolVersion is { } v && Client.ProtocolVersions.IsKnown(v) && v != Client.ProtocolVersions.Latest ? v : Client.ProtocolVersions.LatestSessionBased;
                if (initialize?.ClientInfo is { } info)
                {
                    o.ClientInfo = info;
                }

                o.Capabilities = new ClientCapabilities { Sampling = downstream?.Sampling, Elicitation = downstream?.Elicitation, Roots = downstream?.Roots, Experimental = downstream?.Experimental };
                if (downstream?.Sampling is not null)
                {
                    o.Handlers.SamplingHandler = (p, _, ct) => session!.Target().SampleAsync(p!, ct);
                }

                if (downstream?.Elicitation is not null)
                {
                    o.Handlers.ElicitationHandler = (p, ct) => session!.Target().ElicitAsync(p!, ct);
                }

                if (downstream?.Roots is not null)
                {
                    o.Handlers.RootsHandler = (p, ct) => session!.Target().RequestRootsAsync(p!, ct);
                }
            },
            OnMessageReceived = m => session?.OnUpstreamMessage(m),
        };
        var upstream = await catalog.Hub.OpenDedicatedConnectionAsync(serverId, connection, cancellationToken).ConfigureAwait(false);
        session = new PassThroughSession(upstream, connection, catalog, logger, downstream) { ServerId = serverId };
        session.Watch(upstream);
        return session;
    }

    /// <summary>Mirrors the upstream server: its name, instructions, capabilities, and a forwarding handler for each.</summary>
    public void Configure(McpServerOptions options)
    {
        var client = _upstream.Client;
        var caps = client.ServerCapabilities;
        options.ServerInfo = client.ServerInfo;
        options.ServerInstructions = client.ServerInstructions;
        options.Capabilities = new ServerCapabilities
        {
            Tools = caps.Tools,
            Resources = caps.Resources,
            Prompts = caps.Prompts,
            Logging = caps.Logging,
            Completions = caps.Completions,
            Experimental = caps.Experimental,
        };
        var h = options.Handlers;
        if (caps.Tools is not null)
        {
            h.ListToolsHandler = ResultJson.Faithful<ListToolsRequestParams, ListToolsResult>((r, ct) => ForwardAsync<ListToolsRequestParams, ListToolsResult>(r, GatewayScopes.ToolsList, static () => new(), FilterByConsent, ct));
            h.CallToolHandler = ResultJson.Faithful<CallToolRequestParams, CallToolResult>(CallToolAsync);
        }

        if (caps.Resources is not null)
        {
            h.ListResourcesHandler = ResultJson.Faithful<ListResourcesRequestParams, ListResourcesResult>((r, ct) => ForwardAsync<ListResourcesRequestParams, ListResourcesResult>(r, GatewayScopes.ResourcesRead, static () => new(), null, ct));
            h.ListResourceTemplatesHandler = ResultJson.Faithful<ListResourceTemplatesRequestParams, ListResourceTemplatesResult>((r, ct) => ForwardAsync<ListResourceTemplatesRequestParams, ListResourceTemplatesResult>(r, GatewayScopes.ResourcesRead, static () => new(), null, ct));
            h.ReadResourceHandler = ResultJson.Faithful<ReadResourceRequestParams, ReadResourceResult>((r, ct) => ForwardAsync<ReadResourceRequestParams, ReadResourceResult>(r, GatewayScopes.ResourcesRead, null, null, ct));
            if (caps.Resources.Subscribe == true)
            {
                h.SubscribeToResourcesHandler = ResultJson.Faithful<SubscribeRequestParams, EmptyResult>((r, ct) => ForwardAsync<SubscribeRequestParams, EmptyResult>(r, GatewayScopes.ResourcesRead, null, null, ct));
                h.UnsubscribeFromResourcesHandler = ResultJson.Faithful<UnsubscribeRequestParams, EmptyResult>((r, ct) => ForwardAsync<UnsubscribeRequestParams, EmptyResult>(r, GatewayScopes.ResourcesRead, null, null, ct));
            }
        }

        if (caps.Prompts is not null)
        {
            h.ListPromptsHandler = ResultJson.Faithful<ListPromptsRequestParams, ListPromptsResult>((r, ct) => ForwardAsync<ListPromptsRequestParams, ListPromptsResult>(r, GatewayScopes.PromptsRead, static () => new(), null, ct));
            h.GetPromptHandler = ResultJson.Faithful<GetPromptRequestParams, GetPromptResult>((r, ct) => ForwardAsync<GetPromptRequestParams, GetPromptResult>(r, GatewayScopes.PromptsRead, null, null, ct));
        }

        if (caps.Completions is not null)
        {
            h.CompleteHandler = ResultJson.Faithful<CompleteRequestParams, CompleteResult>((r, ct) => ForwardAsync<CompleteRequestParams, CompleteResult>(r, AggregatedEndpoint.CompletionScope(r.Params), null, null, ct));
        }

        if (caps.Logging is not null)
        {
            h.SetLoggingLevelHandler = ResultJson.Faithful<SetLevelRequestParams, EmptyResult>((r, ct) => ForwardAsync<SetLevelRequestParams, EmptyResult>(r, scope: null, null, null, ct));
        }

        ResultJson.WriteInResponses(options);
    }

    /// <summary>
    /// Runs the downstream session; the upstream session ends with it. The downstream session ends when its upstream
    /// goes away, except over HTTP: a remote server that restarted gets a new upstream session at the next request.
    /// </summary>
    /// <param name="server">The downstream session.</param>
    /// <param name="outbox">What the session is pushed on its own goes through it (held until its GET stream opens), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Ends the session.</param>
    public async Task RunAsync(McpServer server, SessionOutbox? outbox, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _session = server;
            _outbox = outbox;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _ended.Token);
        try
        {
            await server.RunAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_ended.IsCancellationRequested)
        {
            Log.UpstreamEnded(_logger, ServerId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        HubServerConnection upstream;
        lock (_gate)
        {
            _disposed = true;
            upstream = _upstream;
        }

        await upstream.DisposeAsync().ConfigureAwait(false);
        _ended.Dispose();
        _renewing.Dispose();
    }

    /// <summary>Ends the downstream session when <paramref name="upstream"/> ends, unless it is an HTTP session a new one can replace.</summary>
    private void Watch(HubServerConnection upstream) =>
        upstream.Closed.Register(static state =>
        {
            var (self, closed) = ((PassThroughSession, HubServerConnection))state!;
            lock (self._gate)
            {
                if (self._disposed || !ReferenceEquals(self._upstream, closed) || IsHttp(closed))
                {
                    return;
                }
            }

            self._ended.Cancel();
        }, (this, upstream));

    /// <summary>Whether the connection was a Streamable HTTP session that ended (so a new session may replace it).</summary>
#pragma warning disable RS0030 // read only once complete (IsCompletedSuccessfully): does not block
    private static bool IsHttp(HubServerConnection upstream) =>
        upstream.Client.Completion is { IsCompletedSuccessfully: true } done && done.Result is HttpClientCompletionDetails;
#pragma warning restore RS0030

    /// <summary>The upstream connection to send on: the current one, or a new session when the current HTTP session ended.</summary>
    private async ValueTask<HubServerConnection> GetUpstreamAsync(CancellationToken cancellationToken)
    {
        HubServerConnection current;
        lock (_gate)
        {
            current = _upstream;
        }

        return current.Closed.IsCancellationRequested && IsHttp(current) ? await RenewAsync(current, cancellationToken).ConfigureAwait(false) : current;
    }

    /// <summary>
    /// Replaces an upstream session the server no longer knows (a remote server that restarted) with a new one, and
    /// subscribes it again to what the client subscribed to and sets the client's logging level again.
    /// </summary>
    private async ValueTask<HubServerConnection> RenewAsync(HubServerConnection stale, CancellationToken cancellationToken)
    {
        await _renewing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (!ReferenceEquals(_upstream, stale))
                {
                    return _upstream; // renewed meanwhile
                }
            }

            HubServerConnection fresh;
            try
            {
                fresh = await _catalog.Hub.OpenDedicatedConnectionAsync(ServerId, _connection, cancellationToken).ConfigureAwait(false);
            }
            catch (HubException ex)
            {
                throw GatewayErrors.ToMcp(ex);
            }

            string[] subscriptions;
            LoggingLevel? level;
            bool disposed;
            lock (_gate)
            {
                disposed = _disposed;
                if (!disposed)
                {
                    _upstream = fresh;
                }

                subscriptions = [.. _subscriptions];
                level = _logLevel;
            }

            if (disposed)
            {
                await fresh.DisposeAsync().ConfigureAwait(false);
                throw new ObjectDisposedException(nameof(PassThroughSession));
            }

            Watch(fresh);
            Log.SessionRenewed(_logger, ServerId, subscriptions.Length);
            _ = stale.DisposeAsync().AsTask();
            await RestoreAsync(fresh, subscriptions, level, cancellationToken).ConfigureAwait(false);
            return fresh;
        }
        finally
        {
            _renewing.Release();
        }
    }

    private async Task RestoreAsync(HubServerConnection fresh, string[] subscriptions, LoggingLevel? level, CancellationToken cancellationToken)
    {
        try
        {
            if (level is { } l)
            {
                await fresh.Client.SendRequestAsync<SetLevelRequestParams, EmptyResult>(RequestMethods.LoggingSetLevel, new SetLevelRequestParams { Level = l }, McpJsonUtilities.DefaultOptions, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            foreach (var uri in subscriptions)
            {
                await fresh.Client.SendRequestAsync<SubscribeRequestParams, EmptyResult>(RequestMethods.ResourcesSubscribe, new SubscribeRequestParams { Uri = uri }, McpJsonUtilities.DefaultOptions, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is McpException or IOException or HttpRequestException or InvalidOperationException)
        {
            Log.ForwardFailed(_logger, ServerId, RequestMethods.ResourcesSubscribe, ex);
        }
    }

    private ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken) =>
        CallAsync(AggregatedEndpoint.Require(request.User, GatewayScopes.ToolsCall), request.Params ?? throw new McpProtocolException("tools/call needs a tool name.", McpErrorCode.InvalidParams), request.Server, cancellationToken);

    /// <summary>A plain tools/call from the direct lane (no progress token, no stream of its own).</summary>
    public ValueTask<CallToolResult> CallDirectAsync(GatewayCaller caller, CallToolRequestParams parameters, CancellationToken cancellationToken) =>
        CallAsync(caller, parameters, downstream: null, cancellationToken);

    private async ValueTask<CallToolResult> CallAsync(GatewayCaller caller, CallToolRequestParams parameters, McpServer? downstream, CancellationToken cancellationToken)
    {
        var name = parameters.Name ?? throw new McpProtocolException("tools/call needs a tool name.", McpErrorCode.InvalidParams);
        var at = _catalog.Now;
        var started = Stopwatch.GetTimestamp();
        Tool? definition = null;
        try
        {
            var tool = await _catalog.ResolveAsync(null, ServerId, name, cancellationToken).ConfigureAwait(false);
            definition = tool.Tool;
            var consent = _catalog.CheckConsent(tool);
            if (!consent.IsAllowed)
            {
                _catalog.RecordCall(caller, "servers", ServerId, name, at, Stopwatch.GetElapsedTime(started), "refused", null);
                throw GatewayErrors.ConsentRefused(consent.Message!, ServerId);
            }
        }
        catch (HubException ex) when (ex.Code == HubErrorCode.UnknownTool)
        {
            // The shared connection does not know it, but this session's own upstream may (tools that appear per
            // session): consent is judged on the definition this session was given. A tool nobody lists goes to the
            // server, which answers with its own error for an unknown tool.
            var listed = await ForwardAsync<ListToolsRequestParams, ListToolsResult>(null, new ListToolsRequestParams(), RequestMethods.ToolsList, null, cancellationToken).ConfigureAwait(false);
            definition = listed.Tools.FirstOrDefault(t => t.Name == name);
            if (definition is { } own && _catalog.Consent.Evaluate(ServerId, own) is { IsAllowed: false } refused)
            {
                _catalog.RecordCall(caller, "servers", ServerId, name, at, Stopwatch.GetElapsedTime(started), "refused", null);
                throw GatewayErrors.ConsentRefused(refused.Message!, ServerId);
            }
        }
        catch (HubException ex)
        {
            throw GatewayErrors.ToMcp(ex);
        }

        var outcome = "ok";
        try
        {
            // Sent again on a new upstream session (a remote server that restarted) only when that does no harm.
            var idempotent = definition?.Annotations is { } a && (a.ReadOnlyHint == true || a.IdempotentHint == true);
            var result = await ForwardAsync<CallToolRequestParams, CallToolResult>(downstream, parameters, RequestMethods.ToolsCall, null, cancellationToken, idempotent).ConfigureAwait(false);
            outcome = result.IsError == true ? "tool-error" : "ok";
            return result;
        }
        catch (OperationCanceledException)
        {
            outcome = "cancelled";
            throw;
        }
        catch (McpProtocolException ex)
        {
            outcome = ex.Data["hubCode"] as string ?? "ServerError";
            throw;
        }
        finally
        {
            _catalog.RecordCall(caller, "servers", ServerId, name, at, Stopwatch.GetElapsedTime(started), outcome, parameters.Arguments);
        }
    }

    private ListToolsResult FilterByConsent(ListToolsResult result)
    {
        var denied = result.Tools.Where(t => !_catalog.Consent.Evaluate(ServerId, t).IsAllowed).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        if (denied.Count == 0)
        {
            return result;
        }

        result.Tools = [.. result.Tools.Where(t => !denied.Contains(t.Name))];

        // The server's own JSON without the tools left out, so what is listed still reads as the server wrote it.
        if (ResultJson.TryGet(result, out var json) && JsonNode.Parse(json.Span) is JsonObject own && own["tools"] is JsonArray tools)
        {
            foreach (var tool in tools.Where(t => t?["name"] is JsonValue name && name.TryGetValue<string>(out var n) && denied.Contains(n)).ToList())
            {
                tools.Remove(tool);
            }

            ResultJson.Attach(result, JsonSerializer.SerializeToUtf8Bytes(own, McpJsonUtilities.GetTypeInfo<JsonNode>(McpJsonUtilities.DefaultOptions)));
        }
        else
        {
            ResultJson.Forget(result); // no longer what the server wrote
        }

        return result;
    }

    private ValueTask<TResult> ForwardAsync<TParams, TResult>(RequestContext<TParams> request, string? scope, Func<TParams>? empty, Func<TResult, TResult>? adjust, CancellationToken cancellationToken)
        where TParams : RequestParams
        where TResult : Result
    {
        if (scope is not null)
        {
            AggregatedEndpoint.Require(request.User, scope);
        }

        // Resources, prompts and completions only of a server that offers them (ask-first: once allowed as a whole).
        if (scope is GatewayScopes.ResourcesRead or GatewayScopes.PromptsRead || request.JsonRpcRequest.Method == RequestMethods.CompletionComplete)
        {
            _catalog.ThrowIfNotExposed(ServerId);
        }

        // List requests may come without parameters: the server gets an empty object, as the SDK's own list calls send.
        var parameters = request.Params ?? empty?.Invoke() ?? throw new McpProtocolException($"{request.JsonRpcRequest.Method} needs parameters.", McpErrorCode.InvalidParams);
        return ForwardAsync(request.Server, parameters, request.JsonRpcRequest.Method, adjust, cancellationToken);
    }

    /// <summary>
    /// Sends a request upstream within the call budget; <paramref name="downstream"/> (when the request came through the SDK) receives its progress and log notifications.
    /// The request carries an id of the gateway's own, so a cancelled request is announced to the server with
    /// <c>notifications/cancelled</c> naming the id the server saw (SDK 2.3.1 abandons a cancelled request silently).
    /// </summary>
    private async ValueTask<TResult> ForwardAsync<TParams, TResult>(McpServer? downstream, TParams parameters, string method, Func<TResult, TResult>? adjust, CancellationToken cancellationToken, bool idempotent = true)
        where TParams : RequestParams
        where TResult : Result
    {
        var inFlight = downstream is null ? null : new InFlight(downstream, parameters.ProgressToken);
        if (inFlight is not null)
        {
            lock (_gate)
            {
                _inFlight.Add(inFlight);
            }
        }

        var renewed = false;
        try
        {
            while (true)
            {
                var upstream = await GetUpstreamAsync(cancellationToken).ConfigureAwait(false);
                using var timeout = new CancellationTokenSource(upstream.Budgets.Call);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, upstream.Closed);
                try
                {
                    var result = await SendAsync<TParams, TResult>(upstream, method, parameters, linked.Token).ConfigureAwait(false);
                    Remember(method, parameters);
                    await FlushAsync(inFlight).ConfigureAwait(false);
                    return adjust is null ? result : adjust(result);
                }
                catch (Exception ex) when (!renewed && !cancellationToken.IsCancellationRequested && !timeout.IsCancellationRequested && upstream.IsSessionLost(ex))
                {
                    // A remote server that restarted no longer knows the upstream session: start a new one, and send
                    // the request again once when that does no harm.
                    renewed = true;
                    Log.SessionLost(_logger, ServerId, method, ex.Message);
                    await RenewAsync(upstream, cancellationToken).ConfigureAwait(false);
                    if (!idempotent)
                    {
                        throw GatewayErrors.ToMcp(new HubException(HubErrorCode.ServerCrashed, ServerId, $"Server '{ServerId}' restarted: it no longer knew this session's upstream session during {method}. The request was not sent again because it may have had effects (the tool is not annotated read-only or idempotent); a new upstream session is open, so sending it again reaches the restarted server.", ex));
                    }
                }
                catch (McpProtocolException)
                {
                    await FlushAsync(inFlight).ConfigureAwait(false);
                    throw;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
                {
                    throw GatewayErrors.ToMcp(new HubException(HubErrorCode.CallTimeout, ServerId, $"Server '{ServerId}' did not answer {method} within its call budget of {upstream.Budgets.Call.TotalSeconds:0.###} s; the request was cancelled."));
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or HttpRequestException)
                {
                    var tail = upstream.GetDiagnosticsTail();
                    var last = tail.Count > 0 ? $" Its last output: {tail[^1]}" : string.Empty;
                    throw GatewayErrors.ToMcp(new HubException(HubErrorCode.ServerCrashed, ServerId, $"Server '{ServerId}' closed this session's connection during {method}.{last} Start a new session to reconnect.", ex));
                }
            }
        }
        finally
        {
            if (inFlight is not null)
            {
                lock (_gate)
                {
                    _inFlight.Remove(inFlight);
                }
            }
        }

        static Task FlushAsync(InFlight? inFlight) => inFlight?.FlushAsync() ?? Task.CompletedTask;
    }

    /// <summary>Keeps what a new upstream session must be told again: the resources subscribed to and the logging level.</summary>
    private void Remember<TParams>(string method, TParams parameters)
    {
        lock (_gate)
        {
            switch (parameters)
            {
                case SubscribeRequestParams s when method == RequestMethods.ResourcesSubscribe:
                    _subscriptions.Add(s.Uri);
                    break;
                case UnsubscribeRequestParams u when method == RequestMethods.ResourcesUnsubscribe:
                    _subscriptions.Remove(u.Uri);
                    break;
                case SetLevelRequestParams l when method == RequestMethods.LoggingSetLevel:
                    _logLevel = l.Level;
                    break;
            }
        }
    }

    /// <summary>Sends one request with an id of the gateway's own; when it is cancelled (by the client, the budget or the session ending) the server is told.</summary>
    private async ValueTask<TResult> SendAsync<TParams, TResult>(HubServerConnection upstream, string method, TParams parameters, CancellationToken cancellationToken)
        where TParams : RequestParams
        where TResult : Result
    {
        var client = upstream.Client;
        var requestId = new RequestId($"mmcp-pass-{Interlocked.Increment(ref _nextRequest)}");
        try
        {
            var request = new JsonRpcRequest { Id = requestId, Method = method, Params = JsonSerializer.SerializeToNode(parameters, McpJsonUtilities.GetTypeInfo<TParams>(McpJsonUtilities.DefaultOptions)) };
            var response = await client.SendRequestAsync(request, cancellationToken).ConfigureAwait(false);
            var type = McpJsonUtilities.GetTypeInfo<TResult>(McpJsonUtilities.DefaultOptions);
            return ResultJson.Read(response.Result, type); // the server's own JSON kept with it (ResultJson)
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !client.Completion.IsCompleted)
        {
            try
            {
                await client.SendNotificationAsync(
                    NotificationMethods.CancelledNotification,
                    new CancelledNotificationParams { RequestId = requestId, Reason = "The client cancelled the request." },
                    cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or McpException or InvalidOperationException)
            {
                Log.ForwardFailed(_logger, ServerId, NotificationMethods.CancelledNotification, ex);
            }

            throw;
        }
    }

    /// <summary>Where a server-to-client request or a log message goes: the latest request in flight (on its own stream), else the session.</summary>
    private McpServer Target()
    {
        lock (_gate)
        {
            return _inFlight.Count > 0 ? _inFlight[^1].Server : _session ?? throw new McpException("The downstream session is not running yet.");
        }
    }

    /// <summary>Runs on the upstream transport's reader, in arrival order: routes notifications before the response that follows them is dispatched.</summary>
    private void OnUpstreamMessage(JsonRpcMessage message)
    {
        if (message is not JsonRpcNotification notification || notification.Method == NotificationMethods.CancelledNotification)
        {
            return;
        }

        InFlight? owner = null;
        McpServer? session;
        SessionOutbox? outbox;
        lock (_gate)
        {
            session = _session;
            outbox = _outbox;
            if (notification.Method == NotificationMethods.ProgressNotification)
            {
                var token = notification.Params?["progressToken"]?.ToJsonString();
                owner = token is null ? null : _inFlight.FindLast(f => f.ProgressTokenJson == token);
                if (owner is null)
                {
                    return;
                }
            }
            else if (notification.Method == NotificationMethods.LoggingMessageNotification && _inFlight.Count > 0)
            {
                owner = _inFlight[^1];
            }
        }

        var copy = new JsonRpcNotification { Method = notification.Method, Params = notification.Params?.DeepClone() };
        if (owner is not null)
        {
            owner.Forward(copy);
        }
        else if (session is not null)
        {
            _ = SendQuietlyAsync(session, outbox, copy);
        }
    }

    private async Task SendQuietlyAsync(McpServer session, SessionOutbox? outbox, JsonRpcNotification notification)
    {
        try
        {
            await (outbox is not null ? outbox.SendAsync(notification) : session.SendMessageAsync(notification)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or McpException)
        {
            Log.ForwardFailed(_logger, ServerId, notification.Method, ex);
        }
    }

    private sealed class InFlight(McpServer server, ProgressToken? progressToken)
    {
        private readonly Lock _gate = new();
        private readonly List<Task> _pending = [];

        public McpServer Server { get; } = server;

        public string? ProgressTokenJson { get; } = progressToken is { } t ? JsonSerializer.Serialize(t, McpJsonUtilities.GetTypeInfo<ProgressToken>(McpJsonUtilities.DefaultOptions)) : null;

        public void Forward(JsonRpcNotification notification)
        {
            var send = Server.SendMessageAsync(notification);
            lock (_gate)
            {
                _pending.Add(send);
            }
        }

        public async Task FlushAsync()
        {
            Task[] pending;
            lock (_gate)
            {
                pending = [.. _pending];
            }

            await Task.WhenAll(pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4201, LogLevel.Information, "The upstream session of {ServerId} ended; closing the pass-through session")]
        public static partial void UpstreamEnded(ILogger logger, string serverId);

        [LoggerMessage(4211, LogLevel.Warning, "Server {ServerId} no longer knows a pass-through session's upstream session (it restarted?) during {Method}: {Reason}")]
        public static partial void SessionLost(ILogger logger, string serverId, string method, string reason);

        [LoggerMessage(4212, LogLevel.Information, "A pass-through session of {ServerId} has a new upstream session; {Subscriptions} subscriptions renewed")]
        public static partial void SessionRenewed(ILogger logger, string serverId, int subscriptions);

        [LoggerMessage(4202, LogLevel.Debug, "Could not forward {Method} from {ServerId}")]
        public static partial void ForwardFailed(ILogger logger, string serverId, string method, Exception exception);
    }
}
