using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Identity;
using Atlas.Desktop.Pairing;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Storage;

namespace Atlas.Desktop.Admin;

/// <summary>The desktop user's operations, mapped twice: on the admin UI (loopback + admin cookie) and on the control
/// socket (same OS user), so the browser and the <c>atlas</c> CLI do exactly the same things.</summary>
internal static class DesktopApi
{
    public static void MapDesktopOperations(this RouteGroupBuilder group)
    {
        group.WithAtlasErrors();
        group.MapGet("/state", StateAsync);
        group.MapTrustOperations();
        group.MapPost("/pair", async (PairingService pairing, CancellationToken cancellationToken) =>
            Results.Json(ToView(pairing.State with { Current = await pairing.CreateTicketAsync(cancellationToken).ConfigureAwait(false) },
                pairing), DesktopJsonContext.Default.PairingView));
        group.MapGet("/devices", async (DeviceService devices, ConnectionRegistry registry, CancellationToken cancellationToken) =>
            Results.Json(await DeviceViewsAsync(devices, registry, cancellationToken).ConfigureAwait(false),
                DesktopJsonContext.Default.ListDeviceView));
        group.MapPost("/devices/{id}/approve", async (string id, DeviceService devices, ConnectionRegistry registry, CancellationToken cancellationToken) =>
            Results.Json(ToView(await devices.ApproveAsync(id, cancellationToken).ConfigureAwait(false), registry),
                DesktopJsonContext.Default.DeviceView));
        group.MapPost("/devices/{id}/deny", async (string id, DeviceService devices, CancellationToken cancellationToken) =>
        {
            await devices.DenyAsync(id, cancellationToken).ConfigureAwait(false);
            return Results.NoContent();
        });
        group.MapPost("/devices/{id}/revoke", async (string id, bool? deleteFiles, DeviceService devices, CancellationToken cancellationToken) =>
            Results.Json(new RevokeResult(id, await devices.RevokeAsync(id, deleteFiles ?? false, cancellationToken).ConfigureAwait(false)),
                DesktopJsonContext.Default.RevokeResult));
        group.MapPost("/devices/{id}/permissions", async (string id, HttpContext context, DeviceService devices, ConnectionRegistry registry) =>
        {
            var change = await JsonBodies.ReadAsync(context.Request, DesktopJsonContext.Default.PermissionsChange, context.RequestAborted)
                .ConfigureAwait(false);
            if (change?.Permissions is null)
            {
                throw new AtlasException(ErrorCodes.BadRequest, "Send {\"permissions\":[…],\"quotaBytes\":…}.");
            }

            return Results.Json(ToView(await devices.SetPermissionsAsync(id, change.Permissions, change.QuotaBytes, context.RequestAborted)
                .ConfigureAwait(false), registry), DesktopJsonContext.Default.DeviceView);
        });
    }

    private static async Task<IResult> StateAsync(PairingService pairing, DeviceService devices, ConnectionRegistry registry,
        IAuditLog audit, DesktopInfo desktop, CancellationToken cancellationToken)
    {
        var state = new DesktopState(desktop.Name, desktop.Pin, desktop.DisplayFingerprint, desktop.SelfSigned,
            [.. desktop.Urls.Select(u => u.ToString())], desktop.DataDirectory, ToView(pairing.State, pairing),
            await DeviceViewsAsync(devices, registry, cancellationToken).ConfigureAwait(false),
            registry.Count - registry.CountFor(DesktopChat.DeviceId), // paired devices only: "This desktop" is not one
            await audit.RecentAsync(50, cancellationToken).ConfigureAwait(false));
        return Results.Json(state, DesktopJsonContext.Default.DesktopState);
    }

    private static PairingView ToView(PairingState state, PairingService pairing) =>
        new(state.Closed, state.RecentFailures, state.Current?.Url, state.Current?.ExpiresAt, pairing.Fingerprint, pairing.ApprovalMode);

    private static async Task<List<DeviceView>> DeviceViewsAsync(DeviceService devices, ConnectionRegistry registry, CancellationToken cancellationToken) =>
        [.. (await devices.ListAsync(cancellationToken).ConfigureAwait(false)).Select(d => ToView(d, registry))];

    internal static DeviceView ToView(DeviceRecord device, ConnectionRegistry registry) =>
        new(device.Id, device.Name, device.Platform, device.Status, device.Status == DeviceRecord.Pending ? device.CheckCode : null,
            device.Permissions, device.QuotaBytes, device.CreatedAt, device.ApprovedAt, device.LastSeenAt, device.LastAddress,
            registry.CountFor(device.Id));
}
