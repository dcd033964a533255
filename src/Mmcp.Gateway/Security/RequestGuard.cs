using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Client.Diagnostics;
using Mmcp.Gateway.Diagnostics;
using Mmcp.Gateway.Fronts;
using Mmcp.Gateway.Sessions;

namespace Mmcp.Gateway.Security;

/// <summary>What a gateway route is, for the guard.</summary>
internal enum RouteKind
{
    AggregatedMcp,
    PassThroughMcp,
    Rest,
    Health,
    Inspect,

    /// <summary>OAuth protected resource metadata: public (Host and Origin are still checked).</summary>
    Metadata,
}

/// <summary>
/// Runs in front of every gateway endpoint: DNS-rebinding protection (exact <c>Host</c> and <c>Origin</c>
/// allow-lists), bearer tokens (required off loopback; never from the query string), scopes, the body size limit, and
/// the binding of MCP sessions to the endpoint that created them.
/// </summary>
internal sealed partial class RequestGuard
{
    public const string CallerKey = "mmcp.caller";
    public const string RouteKey = "mmcp.route";

    /// <summary>Where a new session's <see cref="SessionSlot"/> waits for the session hooks to claim it.</summary>
    public const string SlotKey = "mmcp.slot";

    /// <summary>What a client refused for want of a dedicated session is told to wait before it tries again.</summary>
    private const int DedicatedRetryAfterSeconds = 10;
    private static readonly string[] QueryTokenNames = ["access_token", "token", "api_key", "apikey", "key", "bearer"];
    private readonly MmcpGatewayOptions _options;
    private readonly TokenStore _tokens;
    private readonly GatewayRuntime _runtime;
    private readonly SessionDirectory _sessions;
    private readonly Aggregation.GatewayCatalog _catalog;
    private readonly JsonRpcFront _front;
    private readonly OAuthResourceServer _oauth;
    private readonly ILogger _logger;
    private readonly HashSet<string> _allowedHosts;
    private readonly HashSet<string> _allowedOrigins;

    public RequestGuard(IOptions<MmcpGatewayOptions> options, TokenStore tokens, GatewayRuntime runtime, SessionDirectory sessions, Aggregation.GatewayCatalog catalog, JsonRpcFront front, OAuthResourceServer oauth, ILogger<RequestGuard> logger)
    {
        _oauth = oauth;
        _catalog = catalog;
        _front = front;
        _options = options.Value;
        _tokens = tokens;
        _runtime = runtime;
        _sessions = sessions;
        _logger = logger;
        _allowedHosts = new HashSet<string>(["localhost", "127.0.0.1", "[::1]", "::1", .. _options.AllowedHosts], StringComparer.OrdinalIgnoreCase);
        _allowedOrigins = new HashSet<string>(_options.AllowedOrigins, StringComparer.OrdinalIgnoreCase);
    }

    public RequestDelegate Wrap(RequestDelegate inner, RouteKind kind, string? scope) => LatencyProbe.Enabled
        ? context => TimedAsync(context, inner, kind, scope)
        : context => GuardAsync(context, inner, kind, scope);

    /// <summary>The guard with the bench-only phase timing of the request (see <see cref="LatencyProbe"/>).</summary>
    private async Task TimedAsync(HttpContext context, RequestDelegate inner, RouteKind kind, string? scope)
    {
        var marks = LatencyProbe.Begin();
        try
        {
            await GuardAsync(context, inner, kind, scope).ConfigureAwait(false);
        }
        finally
        {
            LatencyProbe.End(marks);
        }
    }

    private async Task GuardAsync(HttpContext context, RequestDelegate inner, RouteKind kind, string? scope)
    {
        var request = context.Request;

        // 1. DNS rebinding: the Host must name this machine, and a browser's Origin must be this gateway or an allowed one.
        var host = request.Host.Host;
        if (!IsAllowedHost(host, context.Connection.LocalIpAddress))
        {
            Log.Refused(_logger, "host", host, request.Path);
            await WriteErrorAsync(context, StatusCodes.Status403Forbidden, "forbidden_host", $"Host '{host}' is not allowed. The gateway answers only to its own names (localhost, 127.0.0.1, [::1], the address it listens on, and AllowedHosts).").ConfigureAwait(false);
            return;
        }

        if (request.Headers.Origin.Count > 0)
        {
            var origin = request.Headers.Origin.ToString();
            if (!IsAllowedOrigin(origin, request))
            {
                Log.Refused(_logger, "origin", origin, request.Path);
                await WriteErrorAsync(context, StatusCodes.Status403Forbidden, "forbidden_origin", $"Origin '{origin}' is not allowed. Add it to the gateway's AllowedOrigins (exact scheme://host[:port]) if that web page should reach your tools.").ConfigureAwait(false);
                return;
            }

            if (_allowedOrigins.Contains(origin))
            {
                AddCorsHeaders(context.Response, origin);
            }
        }

        // 2. Tokens: never in the query string (they end up in logs and browser history).
        foreach (var name in QueryTokenNames)
        {
            if (request.Query.ContainsKey(name))
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "token_in_query", $"Tokens are never accepted in the query string ('{name}'); send them as 'Authorization: Bearer <token>'.").ConfigureAwait(false);
                return;
            }
        }

        var caller = GatewayCaller.Local;
        var authorization = kind == RouteKind.Metadata ? string.Empty : request.Headers.Authorization.ToString();
        var tokenRequired = kind == RouteKind.Inspect || (kind != RouteKind.Metadata && TokenRequired(context.Connection.LocalIpAddress));
        if (authorization.Length > 0)
        {
            if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                await WriteUnauthorizedAsync(context, "The Authorization header must be 'Bearer <token>'.").ConfigureAwait(false);
                return;
            }

            var secret = authorization["Bearer ".Length..].Trim();
            if (kind == RouteKind.Inspect && _runtime.IsInspectSecret(secret))
            {
                caller = GatewayCaller.ForToken(new GatewayToken("runtime", "mmcp serve", [GatewayScopes.Inspect], DateTimeOffset.UnixEpoch, null));
            }
            else if (_tokens.Validate(secret) is { } token)
            {
                caller = GatewayCaller.ForToken(token);
            }
            else if (_oauth.Enabled && !secret.StartsWith("mmcp_", StringComparison.Ordinal))
            {
                var (oauthCaller, error) = await _oauth.AuthenticateAsync(context, secret).ConfigureAwait(false);
                if (oauthCaller is null)
                {
                    GatewayTelemetry.RecordRefusal("token");
                    await WriteUnauthorizedAsync(context, error!, "invalid_token").ConfigureAwait(false);
                    return;
                }

                caller = oauthCaller;
            }
            else
            {
                GatewayTelemetry.RecordRefusal("token");
                await WriteUnauthorizedAsync(context, "The bearer token is unknown, revoked or expired. Create one with 'mmcp token create --scope …'.").ConfigureAwait(false);
                return;
            }
        }
        else if (tokenRequired)
        {
            GatewayTelemetry.RecordRefusal("token");
            await WriteUnauthorizedAsync(context, kind == RouteKind.Inspect
                ? "Watching traffic needs a token with the 'inspect' scope ('mmcp inspect' finds the running gateway's own)."
                : _options.RequireToken == true
                    ? "This gateway requires a token on every request (--require-token / RequireToken): send 'Authorization: Bearer <token>'. Create one with 'mmcp token create --scope tools:call'."
                    : "This gateway is reachable beyond loopback, so every request needs 'Authorization: Bearer <token>'. Create one with 'mmcp token create --scope tools:call'.").ConfigureAwait(false);
            return;
        }

        if (scope is not null && !caller.HasScope(scope))
        {
            GatewayTelemetry.RecordRefusal("scope");
            if (_oauth.Enabled)
            {
                // RFC 6750 §3.1 and the MCP step-up: the client may ask the authorization server for the missing scope.
                context.Response.Headers.WWWAuthenticate = _oauth.Challenge(request, "insufficient_scope", $"The token lacks the '{scope}' scope.", scope);
            }

            await WriteErrorAsync(context, StatusCodes.Status403Forbidden, "insufficient_scope", $"The token lacks the '{scope}' scope.").ConfigureAwait(false);
            return;
        }

        context.Items[CallerKey] = caller;
        context.User = caller.ToPrincipal();

        // 3. Body size.
        if (request.ContentLength is { } length && length > _options.MaxRequestBodyBytes)
        {
            await WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, "too_large", $"The request body has {length} bytes; the gateway accepts at most {_options.MaxRequestBodyBytes}.").ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = _options.MaxRequestBodyBytes;
        }

        // 4. An MCP session belongs to the endpoint that created it.
        SessionSlot? slot = null;
        var route = kind switch
        {
            RouteKind.AggregatedMcp => GatewayRoute.Aggregated,
            RouteKind.PassThroughMcp => GatewayRoute.ForServer(context.Request.RouteValues["id"] as string ?? string.Empty),
            _ => null,
        };
        if (route is not null)
        {
            context.Items[RouteKey] = route;
            var sessionId = request.Headers["Mcp-Session-Id"].ToString();
            if (sessionId.Length > 0 && !_sessions.BelongsTo(sessionId, route))
            {
                await WriteJsonRpcErrorAsync(context, StatusCodes.Status404NotFound, -32001, "Session not found").ConfigureAwait(false);
                return;
            }

            if (route.ServerId is { } serverId)
            {
                await _catalog.EnsureDiscoveredAsync(context.RequestAborted).ConfigureAwait(false);
                try
                {
                    _catalog.Hub.GetServerStatus(serverId);
                }
                catch (Client.HubException ex)
                {
                    await WriteJsonRpcErrorAsync(context, StatusCodes.Status404NotFound, (int)ModelContextProtocol.McpErrorCode.InvalidParams, ex.Message).ConfigureAwait(false);
                    return;
                }

                // A server the user denied is out of reach on its own endpoint too, whatever the request.
                if (_catalog.IsServerDenied(serverId) && !HttpMethods.IsDelete(request.Method))
                {
                    GatewayTelemetry.RecordRefusal("consent");
                    await WriteJsonRpcErrorAsync(context, StatusCodes.Status403Forbidden, Errors.GatewayErrors.ConsentRefusedCode, Aggregation.GatewayCatalog.DeniedMessage(serverId)).ConfigureAwait(false);
                    return;
                }
            }

            if (HttpMethods.IsPost(request.Method) && sessionId.Length == 0 && MayOpenSession(request))
            {
                // A new session is counted against the caller's limits, and a pass-through one mirrors the client's
                // capabilities upstream: both peek at the initialize request.
                request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: _options.MaxRequestBodyBytes);
                if (await PeekInitializeIdAsync(request, context.RequestAborted).ConfigureAwait(false) is { } initializeId)
                {
                    // A new session takes its place in the counts now, or is refused clearly (never by ending another caller's).
                    var dedicated = route.ServerId is not null && _options.DedicatedUpstreamSessions && _options.MaxDedicatedSessions > 0;
                    var owner = SessionDirectory.CallerOf(caller.Token?.Id);
                    var limit = _sessions.TryReserve(owner, dedicated, _options.MaxSessionsPerCaller, _options.MaxDedicatedSessionsPerCaller, _options.MaxDedicatedSessions, out slot);
                    if (limit != SessionLimit.None)
                    {
                        await RefuseSessionAsync(context, limit, route.ServerId, owner, initializeId).ConfigureAwait(false);
                        return;
                    }

                    context.Items[SlotKey] = slot;
                }
            }
        }

        GatewaySession? active = null;
        CancellationTokenRegistration ended = default;
        try
        {
            var session = route is not null ? request.Headers["Mcp-Session-Id"].ToString() : string.Empty;

            // While a request (or the GET stream) of a session is served, its client is there: the session is not abandoned.
            if (session.Length > 0 && _sessions.TryGet(session, out var known))
            {
                if (!known.TryEnter())
                {
                    await WriteJsonRpcErrorAsync(context, StatusCodes.Status404NotFound, -32001, "Session not found").ConfigureAwait(false);
                    return;
                }

                active = known;

                // A session the gateway ends (its token was revoked or expired) takes its requests in flight with it.
                try
                {
                    ended = known.Reaped.UnsafeRegister(static c => ((HttpContext)c!).Abort(), context);
                }
                catch (ObjectDisposedException)
                {
                    // The session ended meanwhile (deleted, timed out).
                    await WriteJsonRpcErrorAsync(context, StatusCodes.Status404NotFound, -32001, "Session not found").ConfigureAwait(false);
                    return;
                }

                // What the servers sent the session on its own before its client opened the GET stream goes out on it,
                // once the SDK has taken the stream as the session's (see SessionOutbox).
                if (HttpMethods.IsGet(request.Method))
                {
                    known.Outbox.Watch(context.Response);
                }
            }

            // 5. The JSON-RPC front, one parse of the message: the errors the spec names (parse error, invalid params,
            // no batches) before the SDK answers others, and the direct lane of a session's plain tools/call.
            var front = default(FrontOutcome);
            if (route is not null && HttpMethods.IsPost(request.Method)
                && (request.ContentType is null || request.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)))
            {
                front = await _front.TryHandleAsync(context, session, caller).ConfigureAwait(false);
                if (front.IsAnswered)
                {
                    return;
                }
            }

            // 6. The rest goes to the SDK, which restarts the session's idle clock; on the thread pool, as everything but
            // the direct lane (mmcp serve's socket event thread, see Fronts/IoThread.cs).
            if (session.Length > 0)
            {
                _sessions.SdkSeen(session);
            }

            await IoThread.LeaveAsync().ConfigureAwait(false);
            await JsonRpcFront.SdkAsync(context, active, front, inner).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            await WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, "too_large", $"The request body is larger than the {_options.MaxRequestBodyBytes} bytes the gateway accepts.").ConfigureAwait(false);
        }
        finally
        {
            slot?.ReleaseUnclaimed(); // no session came of the initialize
            if (active is not null)
            {
                await ended.DisposeAsync().ConfigureAwait(false);
                _sessions.Exit(active);
            }
        }
    }

    /// <summary>Whether a POST without a session may be an <c>initialize</c> (a 2026-07-28 request never opens a session).</summary>
    private static bool MayOpenSession(HttpRequest request)
    {
        var version = request.Headers["MCP-Protocol-Version"].ToString();
        return version.Length == 0 || string.CompareOrdinal(version, Client.ProtocolVersions.Latest) < 0;
    }

    private async Task RefuseSessionAsync(HttpContext context, SessionLimit limit, string? serverId, string owner, JsonElement initializeId)
    {
        var who = owner == SessionDirectory.LocalCaller ? "Local callers without a token (they count as one caller)" : $"Token {owner}";
        var (held, heldDedicated) = _sessions.CountOf(owner);
        var message = limit switch
        {
            SessionLimit.PerCaller => $"{who} hold {held} sessions of this gateway, its limit per caller (MaxSessionsPerCaller); end sessions you no longer use (DELETE with their Mcp-Session-Id) or retry after {DedicatedRetryAfterSeconds} s.",
            SessionLimit.DedicatedPerCaller => $"{who} hold {heldDedicated} pass-through sessions with their own upstream session, the limit per caller (MaxDedicatedSessionsPerCaller); end sessions you no longer use (DELETE with their Mcp-Session-Id) or retry after {DedicatedRetryAfterSeconds} s.",
            _ => $"All {_options.MaxDedicatedSessions} pass-through sessions of this gateway are in use (MaxDedicatedSessions); retry after {DedicatedRetryAfterSeconds} s, or end sessions you no longer use (DELETE with their Mcp-Session-Id).",
        };
        if (limit == SessionLimit.Dedicated)
        {
            Log.DedicatedSessionsFull(_logger, serverId ?? string.Empty, _options.MaxDedicatedSessions);
        }
        else
        {
            Log.CallerSessionsFull(_logger, owner, limit == SessionLimit.PerCaller ? nameof(MmcpGatewayOptions.MaxSessionsPerCaller) : nameof(MmcpGatewayOptions.MaxDedicatedSessionsPerCaller));
        }

        context.Response.Headers.RetryAfter = DedicatedRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        await WriteJsonRpcErrorAsync(context, StatusCodes.Status503ServiceUnavailable, (int)ModelContextProtocol.McpErrorCode.InternalError, message, initializeId).ConfigureAwait(false);
    }

    private bool TokenRequired(IPAddress? local) => _options.RequireToken ?? !(local is not null && (local.Equals(IPAddress.Loopback) || local.Equals(IPAddress.IPv6Loopback) || (local.IsIPv4MappedToIPv6 && local.MapToIPv4().Equals(IPAddress.Loopback))));

    private bool IsAllowedHost(string host, IPAddress? local)
    {
        if (host.Length == 0)
        {
            return false;
        }

        if (_allowedHosts.Contains(host))
        {
            return true;
        }

        if (local is null)
        {
            return false;
        }

        var address = local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local;
        var text = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return string.Equals(host, text, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Answers a browser's CORS preflight (<c>OPTIONS</c>): only for an origin listed in AllowedOrigins and a Host of
    /// this machine; anything else is refused, so a foreign page cannot even learn which methods exist.
    /// </summary>
    public async Task PreflightAsync(HttpContext context)
    {
        var request = context.Request;
        var origin = request.Headers.Origin.ToString();
        if (!IsAllowedHost(request.Host.Host, context.Connection.LocalIpAddress) || origin.Length == 0 || !_allowedOrigins.Contains(origin))
        {
            Log.Refused(_logger, "preflight", origin, request.Path);
            await WriteErrorAsync(context, StatusCodes.Status403Forbidden, "forbidden_origin",
                $"Origin '{origin}' may not call this gateway from a browser. Add it to the gateway's AllowedOrigins (mmcp serve --allow-origin) if that web page should reach your tools.").ConfigureAwait(false);
            return;
        }

        AddCorsHeaders(context.Response, origin);
        context.Response.Headers.AccessControlAllowMethods = "GET, POST, DELETE, OPTIONS";
        context.Response.Headers.AccessControlAllowHeaders = "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID";
        context.Response.Headers.AccessControlMaxAge = "600";
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static void AddCorsHeaders(HttpResponse response, string origin)
    {
        response.Headers.AccessControlAllowOrigin = origin;
        response.Headers.AccessControlExposeHeaders = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate";
        response.Headers.Vary = "Origin";
    }

    private bool IsAllowedOrigin(string origin, HttpRequest request)
    {
        if (_allowedOrigins.Contains(origin))
        {
            return true;
        }

        // Same origin: the page was served by this gateway under a Host that passed the check above.
        return string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase);
    }

    private Task WriteUnauthorizedAsync(HttpContext context, string message, string? error = null)
    {
        // With an OAuth issuer, every 401 points at the protected resource metadata (RFC 9728 §5.1), where a client
        // finds the authorization server to sign in with.
        context.Response.Headers.WWWAuthenticate = _oauth.Enabled ? _oauth.Challenge(context.Request, error, error is null ? null : message) : "Bearer";
        return WriteErrorAsync(context, StatusCodes.Status401Unauthorized, error ?? "unauthorized", message);
    }

    internal static async Task WriteErrorAsync(HttpContext context, int status, string code, string message, string? serverId = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("code", code);
        writer.WriteString("message", message);
        if (serverId is not null)
        {
            writer.WriteString("server", serverId);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Returns the raw JSON id of the request when the (buffered) body is an <c>initialize</c>, leaving the body to be read again.</summary>
    private static async Task<JsonElement?> PeekInitializeIdAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken).ConfigureAwait(false);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("method", out var method) && method.ValueEquals("initialize")
                && root.TryGetProperty("id", out var id)
                ? id.Clone()
                : null;
        }
        catch (JsonException)
        {
            return null; // the SDK answers malformed bodies
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    private static async Task WriteJsonRpcErrorAsync(HttpContext context, int status, int code, string message, JsonElement? id = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("jsonrpc", "2.0");
        if (id is { } known)
        {
            writer.WritePropertyName("id");
            known.WriteTo(writer);
        }
        else
        {
            writer.WriteNull("id");
        }

        writer.WriteStartObject("error");
        writer.WriteNumber("code", code);
        writer.WriteString("message", message);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static partial class Log
    {
        [LoggerMessage(4002, LogLevel.Warning, "Refused a new pass-through session of {ServerId}: all {Max} dedicated sessions are in use")]
        public static partial void DedicatedSessionsFull(ILogger logger, string serverId, int max);

        [LoggerMessage(4011, LogLevel.Warning, "Refused a new session of caller {Caller}: it holds as many as {Limit} allows")]
        public static partial void CallerSessionsFull(ILogger logger, string caller, string limit);

        [LoggerMessage(4001, LogLevel.Warning, "Refused a request with a foreign {What} '{Value}' on {Path} (DNS rebinding protection)")]
        public static partial void Refused(ILogger logger, string what, string value, PathString path);
    }
}
