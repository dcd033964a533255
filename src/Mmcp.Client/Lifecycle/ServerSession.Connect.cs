using System.Diagnostics;
using System.Net;
using Mmcp.Client.Authorization;
using Mmcp.Client.Connectors;
using Mmcp.Client.Diagnostics;
using Mmcp.Client.Traffic;
using Mmcp.Core.Registry;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Shared.Telemetry;

namespace Mmcp.Client.Lifecycle;

/// <summary>Connecting: the shared connection, dedicated connections, the launch and handshake budgets, handshake errors, and list-change streams.</summary>
internal sealed partial class ServerSession
{
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
                if (_backoff.IsBackingOff(out var wait) && _lastFailure is { } last)
                {
                    var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                    HubTelemetry.RecordError(Id, last.Code);
                    return Task.FromException<LiveConnection>(new HubException(
                        last.Code,
                        Id,
                        $"Server '{Id}' failed {_backoff.ConsecutiveFailures} times in a row; the hub tries again in {seconds} s. Last failure: {last.Message}",
                        failure: last));
                }

                // The connect runs on the hub's budgets, detached from this caller, so callers that give up do not abort it for
                // the others; and outside the caller's trace, so the connection's message loop never adds to that trace.
                _connecting = Detached.Run(ConnectAndPublishAsync);
            }

            connecting = _connecting;
        }

        return connecting.WaitAsync(cancellationToken);
    }

    private async Task<LiveConnection> ConnectAndPublishAsync(ActivityContext? trigger)
    {
        using var activity = HubTelemetry.StartConnect(Id, _server.Manifest.Transport.Type, trigger);
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
                HubTelemetry.Fail(activity, ex.Code.ToString());
                var failure = ToFailure(ex);
                lock (_gate)
                {
                    _connecting = null;
                    RecordFailureLocked(failure, countsTowardsBackoff: FailureClassifier.CountsTowardsBackoff(ex.Code));
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
                    _backoff.Connected();
                    AcceptedLocked();
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

        // 1. Open the transport (an on-demand launch happens here) within the launch budget. Starting a process blocks
        // for milliseconds: not on a thread others wait on (mmcp serve's socket event thread, a server's reader).
        if (!Thread.CurrentThread.IsThreadPoolThread)
        {
            await Task.Yield();
        }

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
        TappedClientTransport? tapped = null;
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
                tapped = new TappedClientTransport(connection.Transport, _rt.Traffic, Id, connectionId, observe);
                client = await McpClient.CreateAsync(tapped, options, _rt.SdkLoggerFactory, linked.Token).ConfigureAwait(false);
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

        var live = new LiveConnection(client, connection, server.Id, server.Manifest.Transport.Type, connectionId) { Requests = tapped.Requests };
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
            options.Handlers.SamplingHandler = (p, _, ct) => AnswerAsync(RequestMethods.SamplingCreateMessage, () => sampling(serverId, p ?? new CreateMessageRequestParams { Messages = [], MaxTokens = 0 }, ct));
        }

        if (requests.Elicitation is { } elicitation)
        {
            capabilities.Elicitation ??= new ElicitationCapability();
            options.Handlers.ElicitationHandler = (p, ct) => AnswerAsync(RequestMethods.ElicitationCreate, () => elicitation(serverId, p ?? new ElicitRequestParams { Message = string.Empty }, ct));
        }

        if (requests.Roots is { } roots)
        {
            capabilities.Roots ??= new RootsCapability();
            options.Handlers.RootsHandler = (p, ct) => AnswerAsync(RequestMethods.RootsList, () => roots(serverId, p ?? new ListRootsRequestParams(), ct));
        }

        options.Capabilities = capabilities;
    }

    /// <summary>
    /// Runs a handler of a server's request and marks the protocol error it refuses with (<see cref="RefusedRequest"/>):
    /// on 2026-07-28 connections the SDK answers a tool call's input requests inside the call, so the refusal ends the call
    /// itself, and must not read as the server's own error about the call (a MethodNotFound would say the server does not
    /// support tools/call).
    /// </summary>
    private static async ValueTask<T> AnswerAsync<T>(string method, Func<ValueTask<T>> handler)
    {
        try
        {
            return await handler().ConfigureAwait(false);
        }
        catch (McpProtocolException ex)
        {
            ex.Data[RefusedRequestKey] = method;
            throw;
        }
    }

    private const string RefusedRequestKey = "Mmcp.Client.RefusedServerRequest";

    /// <summary>Returns the method of a server's request this client's handler refused with <paramref name="ex"/>, or <see langword="null"/>.</summary>
    private static string? RefusedRequest(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is McpProtocolException && e.Data[RefusedRequestKey] is string method)
            {
                return method;
            }
        }

        return null;
    }

    private static bool IsForwardedNotification(JsonRpcMessage message) =>
        message is JsonRpcNotification { Method: NotificationMethods.LoggingMessageNotification or NotificationMethods.ResourceUpdatedNotification };
#pragma warning restore MCP9005

    private async Task<HubException> HandshakeErrorAsync(DiscoveredServer server, ServerConnection connection, Exception ex, bool timedOut, TimeSpan budget)
    {
        if (BackgroundAuthorization.Find(ex) is { } signIn)
        {
            // The server wants an OAuth sign-in the hub cannot do in the background: say which command does it.
            return new HubException(signIn.Code, server.Id, signIn.Message, ex, new ServerFailure(signIn.Code, signIn.Message, _rt.Time.GetUtcNow()));
        }

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
        else if (ex is HttpRequestException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } refused)
        {
            // It was reached, and it refuses this client (credentials no longer accepted, a permission taken away).
            code = HubErrorCode.SignInRequired;
            message = $"Server '{server.Id}' refused this client (HTTP {(int)refused.StatusCode!}): {refused.Message}";
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
}
