using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Client;
using Mmcp.Gateway.Aggregation;
using Mmcp.Gateway.Diagnostics;
using Mmcp.Gateway.Errors;
using Mmcp.Gateway.PassThrough;
using Mmcp.Gateway.Security;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.Sessions;

/// <summary>
/// The SDK's session hooks: <see cref="ConfigureAsync"/> gives each MCP server (a 2025 session, or one 2026 request)
/// the handlers of its endpoint, and <see cref="RunAsync"/> ties session-scoped resources (a pass-through session's
/// own upstream session, the list-changed subscription of an aggregated session) to the session's life.
/// </summary>
internal sealed partial class McpSessionHooks
{
    private const string PassThroughKey = "mmcp.passthrough";
    private readonly GatewayCatalog _catalog;
    private readonly AggregatedEndpoint _aggregated;
    private readonly SharedPassThrough _shared;
    private readonly SessionDirectory _sessions;
    private readonly MmcpGatewayOptions _options;
    private readonly ILogger _logger;

    public McpSessionHooks(GatewayCatalog catalog, AggregatedEndpoint aggregated, SessionDirectory sessions, IOptions<MmcpGatewayOptions> options, ILogger<McpSessionHooks> logger)
    {
        _catalog = catalog;
        _aggregated = aggregated;
        _shared = new SharedPassThrough(catalog);
        _sessions = sessions;
        _options = options.Value;
        _logger = logger;
        catalog.Changed += BroadcastListChanged;
    }

    public async Task ConfigureAsync(HttpContext context, McpServerOptions options, CancellationToken cancellationToken)
    {
        if (context.Items[RequestGuard.RouteKey] is not GatewayRoute route)
        {
            return; // an MCP endpoint of the host application, not the gateway's
        }

        var sessionId = context.Response.Headers["Mcp-Session-Id"].ToString();
        var stateful = sessionId.Length > 0;
        var ownerToken = (context.Items[RequestGuard.CallerKey] as GatewayCaller)?.Token;
        var owner = ownerToken?.Id;

        // The guard reserved the session's place in the counts when it saw the initialize; claim it, or count it now.
        var slot = stateful && context.Items[RequestGuard.SlotKey] is SessionSlot reserved && reserved.TryClaim() ? reserved : null;
        if (stateful && slot is null)
        {
            slot = _sessions.ReserveUnchecked(SessionDirectory.CallerOf(owner));
            slot.TryClaim();
        }

        try
        {
            DirectCall? direct;
            if (route.ServerId is not { } serverId)
            {
                _aggregated.Configure(options);

                // A client the upstream servers may ask something (sampling, elicitation, roots) needs each call on its
                // own stream, with its session known: its calls go through the SDK handler, not the direct lane.
                var capabilities = stateful ? (await ReadInitializeAsync(context).ConfigureAwait(false))?.Capabilities : null;
                direct = CallOrigin.CanAsk(capabilities)
                    ? null
                    : (caller, p, ct) => _aggregated.CallAsync(caller, p.Name, p.Arguments, progress: null, ct);
            }
            else if (slot is { Dedicated: true })
            {
                PassThroughSession session;
                try
                {
                    session = await PassThroughSession.OpenAsync(_catalog, serverId, await ReadInitializeAsync(context).ConfigureAwait(false), _logger, cancellationToken).ConfigureAwait(false);
                }
                catch (HubException ex)
                {
                    throw GatewayErrors.ToMcp(ex);
                }

                session.Configure(options);
                context.Items[PassThroughKey] = session;
                direct = session.CanCallDirectly ? session.CallDirectAsync : null;
            }
            else
            {
                if (stateful && _options.DedicatedUpstreamSessions)
                {
                    Log.DedicatedLimit(_logger, serverId, _options.MaxDedicatedSessions);
                }

                await _shared.ConfigureAsync(options, serverId, cancellationToken).ConfigureAwait(false);
                direct = (caller, p, ct) => _shared.CallAsync(caller, serverId, p, progress: null, ct);
            }

            if (stateful)
            {
                _sessions.Register(sessionId, route, ownerToken, direct, slot);
                slot = null; // the session gives it back when it ends
            }
        }
        finally
        {
            slot?.Release();
        }
    }

    public async Task RunAsync(HttpContext context, McpServer server, CancellationToken cancellationToken)
    {
        var route = context.Items[RequestGuard.RouteKey] as GatewayRoute;
        var passThrough = context.Items[PassThroughKey] as PassThroughSession;
        var sessionId = server.SessionId;
        if (route is null || string.IsNullOrEmpty(sessionId))
        {
            await server.RunAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var kind = passThrough is not null ? "dedicated" : route.ServerId is null ? "aggregated" : "shared";
        GatewayTelemetry.SessionOpened(kind);

        // The gateway ends a dedicated session whose client went away (see SessionDirectory's sweep).
        var known = _sessions.TryGet(sessionId, out var registered) ? registered : null;
        var reaped = known?.Reaped ?? CancellationToken.None;
        var outbox = known?.Outbox;
        outbox?.Attach(server);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, reaped);
        try
        {
            if (passThrough is not null)
            {
                await passThrough.RunAsync(server, outbox, run.Token).ConfigureAwait(false);
            }
            else if (route.ServerId is null)
            {
                _sessions.AddAggregated(server, outbox);
                _catalog.Traffic.AddSession(server, outbox);
                await server.RunAsync(run.Token).ConfigureAwait(false);
            }
            else
            {
                await server.RunAsync(run.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (reaped.IsCancellationRequested)
        {
            // Reaped: the session ends here; its upstream session with it.
        }
        finally
        {
            _sessions.RemoveAggregated(server);
            _sessions.Unregister(sessionId);
            if (route.ServerId is null && _catalog.Traffic.RemoveSession(server) is { Count: > 0 } orphans)
            {
                _ = _aggregated.UnsubscribeOrphansAsync(orphans);
            }

            if (passThrough is not null)
            {
                await passThrough.DisposeAsync().ConfigureAwait(false);
            }

            GatewayTelemetry.SessionClosed(kind);
        }
    }

    private void BroadcastListChanged(HubListKind kind)
    {
        var method = kind switch
        {
            HubListKind.Resources => NotificationMethods.ResourceListChangedNotification,
            HubListKind.Prompts => NotificationMethods.PromptListChangedNotification,
            _ => NotificationMethods.ToolListChangedNotification,
        };
        foreach (var (server, outbox) in _sessions.Aggregated)
        {
            _ = NotifyAsync(server, outbox, method);
        }
    }

    private async Task NotifyAsync(McpServer server, SessionOutbox? outbox, string method)
    {
        try
        {
            var notification = new JsonRpcNotification { Method = method };
            await (outbox is not null ? outbox.SendAsync(notification) : server.SendMessageAsync(notification)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or McpException)
        {
            Log.NotifyFailed(_logger, method, ex);
        }
    }

    /// <summary>Reads the initialize request again (the guard buffered the body) to mirror the client upstream.</summary>
    private static async Task<InitializeRequestParams?> ReadInitializeAsync(HttpContext context)
    {
        var body = context.Request.Body;
        if (!body.CanSeek)
        {
            return null;
        }

        body.Position = 0;
        try
        {
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            return document.RootElement.TryGetProperty("params", out var p)
                ? p.Deserialize(McpJsonUtilities.GetTypeInfo<InitializeRequestParams>(McpJsonUtilities.DefaultOptions))
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4301, LogLevel.Warning, "A new session of {ServerId} shares the hub's connection: MaxDedicatedSessions is {MaxSessions}")]
        public static partial void DedicatedLimit(ILogger logger, string serverId, int maxSessions);

        [LoggerMessage(4302, LogLevel.Debug, "Could not push {Method} to a session")]
        public static partial void NotifyFailed(ILogger logger, string method, Exception exception);
    }
}
