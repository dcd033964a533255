using System.Net;
using Atlas.Client.Protocol;
using Atlas.Desktop.Network;

namespace Atlas.Desktop.Admin;

/// <summary>"This desktop": the desktop user's own chat identity. It is a built-in device record (so conversations,
/// files, exactly-once delivery and resume work exactly as for phones, each under its own device id) that is never
/// listed among phones, cannot be approved, revoked or changed as one, has no device credential, and acts only from
/// this computer: loopback peer, loopback Host, a valid admin cookie and, when there is an Origin, this desktop's own
/// loopback origin. Its session tokens come from the admin API, never from <c>POST /auth</c>.</summary>
internal static class DesktopChat
{
    /// <summary>The reserved device id; generated ids start with <c>dev_</c>, so no paired device can take it and no
    /// device credential can name it.</summary>
    public const string DeviceId = "desktop";

    public const string Name = "This desktop";

    public const string Platform = "desktop";

    /// <summary>The page of the desktop chat: the phone's web client, served on the loopback-only admin path.</summary>
    public const string PagePath = "/admin/chat";

    /// <summary>What "This desktop" may do: everything a device can be granted (tools still need the desktop's
    /// consent per server).</summary>
    public static IReadOnlyList<string> Permissions { get; } = [.. Atlas.Client.Protocol.Permissions.All];

    public static bool Is(string? deviceId) => string.Equals(deviceId, DeviceId, StringComparison.Ordinal);

    /// <summary>Null when <paramref name="context"/> may act as "This desktop"; otherwise why not (a message for the
    /// <c>forbidden</c> or <c>unauthorized</c> error).</summary>
    public static (string Code, string Message)? Refusal(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is null || !IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote)
            || !NetworkPolicy.IsLoopbackHost(context.Request.Host.Host))
        {
            return (ErrorCodes.Forbidden, "The desktop's own chat is only reachable on this computer (https://127.0.0.1).");
        }

        var origins = context.Request.Headers.Origin;
        if (origins.Count > 1
            || (origins is [{ } origin] && !context.RequestServices.GetRequiredService<NetworkPolicy>().IsAdminOrigin(origin)))
        {
            return (ErrorCodes.Forbidden, "The desktop's own chat answers only pages of this desktop opened at https://127.0.0.1.");
        }

        return context.RequestServices.GetRequiredService<AdminSessions>().IsValid(context.Request.Cookies[AdminSessions.CookieName])
            ? null
            : (ErrorCodes.Unauthorized, "The desktop's chat needs the admin UI: open the admin link printed by 'atlas serve' or 'atlas admin'.");
    }
}
