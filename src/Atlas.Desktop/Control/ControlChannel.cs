using System.Net.Sockets;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Microsoft.AspNetCore.Connections.Features;

namespace Atlas.Desktop.Control;

/// <summary>The local control channel: plain HTTP on a Unix socket in the private data directory (mode 0600), so only
/// the same OS user can drive the running instance (<c>atlas pair</c>, <c>atlas devices …</c>, <c>atlas status</c>).</summary>
internal static class ControlChannel
{
    public const string PathPrefix = "/control";

    /// <summary>Kestrel reports no IP addresses for Unix socket connections; every TCP connection has both.</summary>
    public static bool IsControlConnection(HttpContext context) =>
        context.Features.Get<IConnectionEndPointFeature>()?.LocalEndPoint is UnixDomainSocketEndPoint
        || (context.Connection.LocalIpAddress is null && context.Connection.RemoteIpAddress is null);

    public static void MapControl(this IEndpointRouteBuilder app)
    {
        var control = app.MapGroup(PathPrefix).AllowAnonymous().AddEndpointFilter(async (context, next) =>
            IsControlConnection(context.HttpContext)
                ? await next(context).ConfigureAwait(false)
                : Results.NotFound());
        control.MapDesktopOperations();
        control.MapPost("/admin-link", (AdminSessions sessions) =>
            Results.Json(new AdminLink(sessions.CreateLink()), DesktopJsonContext.Default.AdminLink));
    }

    /// <summary>Restricts the socket file to the current user once Kestrel has created it.</summary>
    public static void Restrict(string path, ILogger logger)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.ControlSocketMode(logger, e, path);
        }
    }
}
