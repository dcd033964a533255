using System.Security.Claims;
using System.Text.Encodings.Web;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Diagnostics;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Auth;

/// <summary>Authenticates REST requests from <c>Authorization: Bearer &lt;session token&gt;</c> only (never a query
/// string or cookie); the scheme is matched in any case. An authenticated request is tied to its device's lifetime:
/// revoking the device aborts it.</summary>
internal sealed class SessionAuthenticationHandler : AuthenticationHandler<AuthenticationSchemeOptions>
{
    public const string SchemeName = "AtlasSession";
    public const string DeviceIdClaim = "atlas:device";
    private const string FailureKey = "atlas.auth.failure";
    private readonly SessionService _sessions;
    private readonly DeviceLifetimes _lifetimes;

    public SessionAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
        SessionService sessions, DeviceLifetimes lifetimes)
        : base(options, logger, encoder)
    {
        _sessions = sessions;
        _lifetimes = lifetimes;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken(Request.Headers.Authorization) is not { } token)
        {
            return AuthenticateResult.NoResult();
        }

        try
        {
            var session = await _sessions.ValidateAsync(token, Context.RequestAborted).ConfigureAwait(false);
            if (DesktopChat.Is(session.Device.Id) && DesktopChat.Refusal(Context) is { } refusal)
            {
                throw new AtlasException(refusal.Code, refusal.Message);
            }


            // WebSockets authenticate with a frame and are closed by the connection registry, with a close frame.
            if (!Context.WebSockets.IsWebSocketRequest && !_lifetimes.TryAttach(session.Device.Id, Context))
            {
                throw new AtlasException(ErrorCodes.Revoked, "The device is no longer paired with this desktop.");
            }

            if (!Context.WebSockets.IsWebSocketRequest)
            {
                await _sessions.SeenAsync(session.Device.Id, Context.Connection.RemoteIpAddress?.ToString(), Context.RequestAborted).ConfigureAwait(false);
            }

            Context.Items[typeof(SessionInfo)] = session;
            var identity = new ClaimsIdentity([new Claim(DeviceIdClaim, session.Device.Id)], SchemeName);
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
        }
        catch (AtlasException e)
        {
            Context.Items[FailureKey] = e;
            return AuthenticateResult.Fail(e.Message);
        }
    }

    /// <summary>The token of a single <c>Authorization: Bearer &lt;token&gt;</c> header, the scheme in any case
    /// (RFC 7235 §2.1); null for another scheme, no header, or more than one.</summary>
    internal static string? BearerToken(Microsoft.Extensions.Primitives.StringValues authorization)
    {
        if (authorization is not [{ } header])
        {
            return null;
        }

        var space = header.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 && header.AsSpan(0, space).Equals("Bearer", StringComparison.OrdinalIgnoreCase)
            ? header[(space + 1)..].Trim()
            : null;
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = Context.Items[FailureKey] as AtlasException;
        return ApiErrors.WriteAsync(Context, failure?.Code ?? ErrorCodes.Unauthorized,
            failure?.Message ?? "This endpoint needs a session token in the Authorization header (Bearer); get one from POST /auth.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiErrors.WriteAsync(Context, ErrorCodes.Forbidden, "The device is not allowed to do this.");
}

internal static class SessionHttpContextExtensions
{
    /// <summary>The authenticated session of a request that passed <c>RequireAuthorization</c>.</summary>
    public static SessionInfo Session(this HttpContext context) =>
        context.Items[typeof(SessionInfo)] as SessionInfo
        ?? throw new InvalidOperationException("The endpoint is missing RequireAuthorization().");

    /// <summary>Endpoint filter: answers 403 <c>forbidden</c> unless the device holds <paramref name="permission"/>.</summary>
    public static TBuilder RequirePermission<TBuilder>(this TBuilder builder, string permission)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var session = context.HttpContext.Session();
            return session.Device.Permissions.Contains(permission, StringComparer.Ordinal)
                ? await next(context).ConfigureAwait(false)
                : ApiErrors.Result(ErrorCodes.Forbidden, $"This device does not have the '{permission}' permission; grant it on the desktop.");
        });
}
