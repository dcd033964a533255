using System.Collections.Concurrent;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Files;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Status;
using Atlas.Desktop.Storage;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Devices;

/// <summary>Desktop-side decisions about devices: approve, deny, revoke (closing live sockets at once) and permissions
/// (applied to live sockets at once).</summary>
internal sealed class DeviceService
{
    private readonly IDeviceStore _devices;
    private readonly IAuditLog _audit;
    private readonly ConnectionRegistry _connections;
    private readonly DeviceLifetimes _lifetimes;
    private readonly DeviceFileSystem _files;
    private readonly StatusService _status;
    private readonly AtlasOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DeviceService> _logger;
    private readonly Admin.AdminEvents _events;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _decisions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _denied = new(StringComparer.Ordinal);

    public DeviceService(IDeviceStore devices, IAuditLog audit, ConnectionRegistry connections, DeviceLifetimes lifetimes, DeviceFileSystem files,
        StatusService status, IOptions<AtlasOptions> options, AtlasTime time, ILogger<DeviceService> logger, Admin.AdminEvents events)
    {
        _events = events;
        _devices = devices;
        _audit = audit;
        _connections = connections;
        _lifetimes = lifetimes;
        _files = files;
        _status = status;
        _options = options.Value;
        _time = time.Provider;
        _logger = logger;
    }


    /// <summary>The paired and pending devices; "This desktop" is built in, not a paired device, and never listed. A
    /// request that waited past <c>Atlas:Pairing:ApprovalTimeout</c> is denied now (as its device's next poll would be)
    /// and not listed, so every view (admin UI, <c>atlas devices list</c>, <c>atlas status</c>) agrees with the rule.</summary>
    public async Task<IReadOnlyList<DeviceRecord>> ListAsync(CancellationToken cancellationToken)
    {
        var listed = new List<DeviceRecord>();
        foreach (var device in await _devices.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (DesktopChat.Is(device.Id))
            {
                continue;
            }

            if (device.Status == DeviceRecord.Pending && IsExpired(device))
            {
                await ExpireAsync(device.Id, cancellationToken).ConfigureAwait(false);
                continue;
            }

            listed.Add(device);
        }

        return listed;
    }

    /// <summary>Denies every pairing request that waited past its timeout (the cleanup sweep, so none accumulate).</summary>
    public async Task ExpireOverdueAsync(CancellationToken cancellationToken) => await ListAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>A paired or pending device; "This desktop" is not one, so it cannot be approved, denied, revoked or
    /// have its permissions changed.</summary>
    public async Task<DeviceRecord> GetAsync(string id, CancellationToken cancellationToken) =>
        (DesktopChat.Is(id) ? null : await _devices.GetAsync(id, cancellationToken).ConfigureAwait(false))
        ?? throw new AtlasException(ErrorCodes.NotFound, $"No device '{id}'. List devices with 'atlas devices list'.");

    public async Task<DeviceRecord> ApproveAsync(string id, CancellationToken cancellationToken)
    {
        var device = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (device.Status != DeviceRecord.Pending)
        {
            throw new AtlasException(ErrorCodes.Conflict, $"Device '{id}' is already approved.");
        }

        if (IsExpired(device))
        {
            await ExpireAsync(id, cancellationToken).ConfigureAwait(false);
            throw new AtlasException(ErrorCodes.PairingDenied, $"The pairing request of '{id}' waited too long and expired; pair the device again.");
        }

        if (!await _devices.ApproveAsync(id, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            throw new AtlasException(ErrorCodes.Conflict, $"Device '{id}' changed while approving; try again.");
        }

        await _audit.WriteAsync("device_approved", id, null, null, cancellationToken).ConfigureAwait(false);
        Log.DeviceApproved(_logger, id);
        Signal(id);
        return await GetAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public async Task DenyAsync(string id, CancellationToken cancellationToken)
    {
        var device = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (device.Status != DeviceRecord.Pending)
        {
            throw new AtlasException(ErrorCodes.Conflict, $"Device '{id}' is already approved; revoke it instead.");
        }

        RememberDenied(id);
        await _devices.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
        await _audit.WriteAsync("device_denied", id, null, null, cancellationToken).ConfigureAwait(false);
        Signal(id);
    }

    /// <summary>Deletes the credential, sessions and upload sessions; ends every live socket and HTTP request of the
    /// device now (a REST chat stream, a download, an upload chunk); deletes its upload parts and, with
    /// <paramref name="deleteFiles"/>, its files. Returns how many live sockets and requests were cut.</summary>
    public async Task<int> RevokeAsync(string id, bool deleteFiles, CancellationToken cancellationToken)
    {
        if (DesktopChat.Is(id) || !await _devices.DeleteAsync(id, cancellationToken).ConfigureAwait(false))
        {
            throw new AtlasException(ErrorCodes.NotFound, $"No device '{id}'. List devices with 'atlas devices list'.");
        }

        Signal(id);

        // First the mark (requests that authenticate from now on are refused and writers stop before committing),
        // then the cut, then the files under the device's write lock, so no write in flight re-creates them.
        var requests = _lifetimes.Revoke(id);
        var sockets = await _connections.CloseDeviceAsync(id, AtlasProtocol.CloseRevoked, ErrorCodes.Revoked).ConfigureAwait(false);
        await _files.RetireAsync(id, deleteFiles, cancellationToken).ConfigureAwait(false);
        await _audit.WriteAsync("device_revoked", id, null, deleteFiles ? "files deleted" : null, cancellationToken).ConfigureAwait(false);
        Log.DeviceRevoked(_logger, id, sockets, requests);
        return sockets + requests;
    }

    public async Task<DeviceRecord> SetPermissionsAsync(string id, IReadOnlyList<string> permissions, long? quotaBytes,
        CancellationToken cancellationToken)
    {
        var invalid = permissions.Where(p => !Permissions.IsValid(p)).ToList();
        if (invalid.Count > 0)
        {
            throw new AtlasException(ErrorCodes.BadRequest,
                $"Unknown permission(s) {string.Join(", ", invalid)}; valid: {string.Join(", ", Permissions.All)} or tools:<serverId>.");
        }

        if (quotaBytes is < 0)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "The quota must be 0 bytes or more.");
        }

        var device = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        var normalized = permissions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        await _devices.UpdatePermissionsAsync(id, normalized, quotaBytes ?? device.QuotaBytes, cancellationToken).ConfigureAwait(false);
        await _audit.WriteAsync("permissions_changed", id, null, string.Join(' ', normalized), cancellationToken).ConfigureAwait(false);
        Log.PermissionsChanged(_logger, id, string.Join(' ', normalized));
        var updated = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        _lifetimes.ChangePermissions(id, updated.Permissions);
        await _connections.UpdateDeviceAsync(updated).ConfigureAwait(false);
        await _status.PublishAsync(id, cancellationToken).ConfigureAwait(false);
        _events.Publish(Admin.AdminEvents.Devices);
        return updated;
    }

    /// <summary>For a pending device: waits up to <paramref name="wait"/> for the desktop user's decision.</summary>
    public async Task<DeviceRecord> WaitForDecisionAsync(DeviceRecord device, TimeSpan wait, CancellationToken cancellationToken)
    {
        var decision = _decisions.GetOrAdd(device.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var current = await _devices.GetAsync(device.Id, cancellationToken).ConfigureAwait(false);
        if (current is { Status: DeviceRecord.Pending } && !IsExpired(current) && wait > TimeSpan.Zero)
        {
            try
            {
                await decision.Task.WaitAsync(wait, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // No decision yet: answered as pending below.
            }

            current = await _devices.GetAsync(device.Id, cancellationToken).ConfigureAwait(false);
        }

        switch (current)
        {
            case { Status: DeviceRecord.Active }:
                return current;
            case { Status: DeviceRecord.Pending } when IsExpired(current):
                await ExpireAsync(current.Id, cancellationToken).ConfigureAwait(false);
                throw new AtlasException(ErrorCodes.PairingDenied, "The desktop did not approve this device in time; pair again.");
            case { Status: DeviceRecord.Pending }:
                throw new AtlasException(ErrorCodes.PairingPending,
                    $"Waiting for approval on the desktop; check code {current.CheckCode}.");
            default:
                throw new AtlasException(ErrorCodes.PairingDenied, "The desktop user denied this device.");
        }
    }

    /// <summary>Whether a device was recently denied (its credential then answers <c>pairing_denied</c>, not <c>unauthorized</c>).</summary>
    public bool WasDenied(string id) => _denied.ContainsKey(id);

    private void RememberDenied(string id)
    {
        var now = _time.GetUtcNow();
        foreach (var old in _denied.Where(d => d.Value + _options.Pairing.ApprovalTimeout < now).Select(d => d.Key).ToList())
        {
            _denied.TryRemove(old, out _);
        }

        _denied[id] = now;
    }

    /// <summary>Denies a request that waited too long: its credential answers <c>pairing_denied</c> from now on; audited
    /// once, by whichever caller deleted it (a list, an approval, the device's own poll).</summary>
    private async Task ExpireAsync(string id, CancellationToken cancellationToken)
    {
        RememberDenied(id);
        if (await _devices.DeleteAsync(id, cancellationToken).ConfigureAwait(false))
        {
            await _audit.WriteAsync("pairing_expired", id, null, null, cancellationToken).ConfigureAwait(false);
        }

        Signal(id);
    }

    private bool IsExpired(DeviceRecord pending) => pending.CreatedAt + _options.Pairing.ApprovalTimeout <= _time.GetUtcNow();

    private void Signal(string id)
    {
        _events.Publish(Admin.AdminEvents.Devices);
        if (_decisions.TryRemove(id, out var decision))
        {
            decision.TrySetResult();
        }
    }
}
