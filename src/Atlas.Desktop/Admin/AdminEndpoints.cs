using System.Net;
using Atlas.Client.Protocol;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Network;
using Atlas.Desktop.Pairing;
using Atlas.Desktop.Realtime;

namespace Atlas.Desktop.Admin;

/// <summary>The admin UI: loopback only, behind the one-time admin link that becomes an HttpOnly, Secure,
/// SameSite=Strict cookie. Mutations also need the <c>X-Atlas-Admin</c> header (a cross-site form cannot set it) and,
/// when present, a loopback Origin of this desktop.</summary>
internal static class AdminEndpoints
{
    public const string Header = "X-Atlas-Admin";

    public static void MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").AllowAnonymous().AddEndpointFilter(async (context, next) =>
            LoopbackOnly(context.HttpContext) ?? await next(context).ConfigureAwait(false));

        admin.MapGet("", () => StaticAssets.Serve("admin.html"));
        admin.MapGet("/admin.js", () => StaticAssets.Serve("admin.js"));
        admin.MapGet("/admin.css", () => StaticAssets.Serve("admin.css"));

        // The desktop user's own chat: the phone's web client on this loopback-only path, acting as "This desktop".
        admin.MapGet("/chat", () => StaticAssets.Serve("app.html"));
        admin.MapPost("/login", async (HttpContext context, AdminSessions sessions) =>
        {
            var login = await JsonBodies.ReadAsync(context.Request, DesktopJsonContext.Default.AdminLogin, context.RequestAborted).ConfigureAwait(false);
            var session = sessions.Redeem(login?.Code);
            if (session is null)
            {
                return ApiErrors.Result(ErrorCodes.Unauthorized,
                    "This admin link was already used or has expired. Run 'atlas admin' for a new one.");
            }

            context.Response.Cookies.Append(AdminSessions.CookieName, session, new CookieOptions
            {
                HttpOnly = true,
                Secure = true,
                SameSite = SameSiteMode.Strict,
                Path = "/",
                IsEssential = true,
            });
            return Results.NoContent();
        }).WithAtlasErrors();

        var api = admin.MapGroup("/api").AddEndpointFilter(async (context, next) =>
            RequireAdmin(context.HttpContext) ?? await next(context).ConfigureAwait(false));
        api.MapDesktopOperations();
        api.MapAdminServers();
        api.MapAdminMedia();
        api.MapAdminLlm();
        api.MapGet("/metrics", (LiveMetrics metrics) => Results.Json(metrics.Snapshot(), Admin.AdminJsonContext.Default.LiveMetricsView));
        api.MapGet("/events", (HttpContext context, AdminEvents events, Mmcp.Client.MmcpHub hub, IHostApplicationLifetime lifetime) =>
        {
            events.Watch(hub);
            return events.StreamAsync(context, lifetime.ApplicationStopping);
        });
        api.MapPost("/desktop-session", async (HttpContext context, SessionService sessions) =>
            DesktopChat.Refusal(context) is { } refusal
                ? ApiErrors.Result(refusal.Code, refusal.Message)
                : Results.Json(await sessions.CreateDesktopAsync(context.RequestAborted).ConfigureAwait(false), AtlasJsonContext.Default.SessionResponse));
        api.MapPost("/logout", async (HttpContext context, AdminSessions sessions, ConnectionRegistry connections) =>
        {
            sessions.End(context.Request.Cookies[AdminSessions.CookieName]);

            // Signing out of the admin UI also ends the desktop's chat sockets (their REST calls need the cookie anyway).
            await connections.CloseDeviceAsync(DesktopChat.DeviceId, AtlasProtocol.CloseAuthFailed, ErrorCodes.Unauthorized).ConfigureAwait(false);
            context.Response.Cookies.Delete(AdminSessions.CookieName, new CookieOptions { Secure = true, Path = "/" });
            return Results.NoContent();
        });
        api.MapGet("/qr.svg", async (PairingService pairing, CancellationToken cancellationToken) =>
            Results.Text(QrRenderer.Svg(await CurrentUrlAsync(pairing, cancellationToken).ConfigureAwait(false)), "image/svg+xml"));
        api.MapGet("/qr.png", async (PairingService pairing, CancellationToken cancellationToken) =>
            Results.Bytes(QrRenderer.Png(await CurrentUrlAsync(pairing, cancellationToken).ConfigureAwait(false)), "image/png"));
    }

    private static async Task<string> CurrentUrlAsync(PairingService pairing, CancellationToken cancellationToken) =>
        pairing.State.Current?.Url ?? (await pairing.CreateTicketAsync(cancellationToken).ConfigureAwait(false)).Url;

    private static IResult? LoopbackOnly(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        return remote is not null && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote)
            && NetworkPolicy.IsLoopbackHost(context.Request.Host.Host)
            ? null
            : ApiErrors.Result(ErrorCodes.Forbidden, "The admin UI is only reachable from this computer (https://127.0.0.1).");
    }

    private static IResult? RequireAdmin(HttpContext context)
    {
        var sessions = context.RequestServices.GetRequiredService<AdminSessions>();
        if (!sessions.IsValid(context.Request.Cookies[AdminSessions.CookieName]))
        {
            return ApiErrors.Result(ErrorCodes.Unauthorized, "Not signed in to the admin UI; open the admin link printed by 'atlas serve' or 'atlas admin'.");
        }

        if (!HttpMethods.IsGet(context.Request.Method))
        {
            var policy = context.RequestServices.GetRequiredService<NetworkPolicy>();
            var origins = context.Request.Headers.Origin;
            if (context.Request.Headers[Header] != "1" || origins.Count > 1
                || (origins is [{ } origin] && !policy.IsAdminOrigin(origin)))
            {
                return ApiErrors.Result(ErrorCodes.Forbidden, $"Admin changes need the {Header} header from the admin page itself.");
            }
        }

        return null;
    }
}
