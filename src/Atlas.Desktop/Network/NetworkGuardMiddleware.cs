using Atlas.Client.Protocol;
using Atlas.Desktop.Control;
using Atlas.Desktop.Diagnostics;

namespace Atlas.Desktop.Network;

/// <summary>The first middleware: refuses non-private peers, foreign Host headers, foreign or repeated Origins and tokens in query
/// strings before anything else runs, and keeps the control API on the control socket only.</summary>
internal sealed class NetworkGuardMiddleware
{
    // Query keys that look like credentials. Tokens are accepted only in the Authorization header or the auth frame;
    // a token in a URL ends up in logs, history and Referer headers (Atlas mobile-server bug).
    private static readonly string[] TokenKeys =
        ["token", "access_token", "accesstoken", "session", "sessiontoken", "session_token", "credential", "devicecredential",
         "device_credential", "ticket", "auth", "authorization", "bearer", "key", "api_key", "apikey"];

    private readonly RequestDelegate _next;
    private readonly NetworkPolicy _policy;
    private readonly ILogger<NetworkGuardMiddleware> _logger;

    public NetworkGuardMiddleware(RequestDelegate next, NetworkPolicy policy, ILogger<NetworkGuardMiddleware> logger)
    {
        _next = next;
        _policy = policy;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var controlChannel = ControlChannel.IsControlConnection(context);
        var isControlPath = context.Request.Path.StartsWithSegments(ControlChannel.PathPrefix, StringComparison.Ordinal);
        if (controlChannel != isControlPath)
        {
            // The control API exists only on the control socket, and the socket serves nothing else.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (controlChannel)
        {
            return _next(context);
        }

        var remote = context.Connection.RemoteIpAddress;
        if (!_policy.IsAllowedRemote(remote))
        {
            Log.RefusedAddress(_logger, remote?.ToString() ?? "unknown");
            return ApiErrors.WriteAsync(context, ErrorCodes.AddressNotAllowed,
                "Atlas accepts connections only from loopback and private network addresses.");
        }

        if (!_policy.IsAllowedHost(context.Request.Host.Host))
        {
            Log.RefusedHost(_logger, context.Request.Host.Host);
            return ApiErrors.WriteAsync(context, ErrorCodes.HostNotAllowed,
                "The Host header is not one of this desktop's addresses or names. Use the address from the pairing QR code; "
                + "add a hostname with Atlas:Network:AllowedHosts.");
        }

        var origins = context.Request.Headers.Origin;
        if (origins.Count > 1)
        {
            // A browser sends one Origin; two headers (or a list) must not let a foreign one slip past a single-value check.
            Log.RefusedOrigin(_logger, origins.ToString());
            return ApiErrors.WriteAsync(context, ErrorCodes.OriginNotAllowed,
                "The request carries more than one Origin header; send exactly one, this desktop's own address.");
        }

        if (origins is [{ } origin] && !_policy.IsAllowedOrigin(origin))
        {
            Log.RefusedOrigin(_logger, origin);
            return ApiErrors.WriteAsync(context, ErrorCodes.OriginNotAllowed,
                "Requests from other web sites are refused; open the page from this desktop's own address.");
        }

        foreach (var key in context.Request.Query.Keys)
        {
            if (TokenKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                return ApiErrors.WriteAsync(context, ErrorCodes.TokenInQuery,
                    $"The query parameter '{key}' looks like a credential. Send tokens in the Authorization header "
                    + "(REST) or in the auth frame (WebSocket), never in a URL.");
            }
        }

        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers.CacheControl = "no-store";
        return _next(context);
    }
}
