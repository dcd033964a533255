using System.Collections.Concurrent;
using System.Net;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Storage;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Auth;

/// <summary>A validated session: the device comes from the session, never from a request body.</summary>
internal sealed record SessionInfo(DeviceRecord Device, DateTimeOffset ExpiresAt);

/// <summary>Exchanges device credentials for short-lived session tokens and validates them.</summary>
internal sealed class SessionService
{
    private const int SqliteConstraint = 19;

    /// <summary>How often a device's "last seen" is written at most, so activity does not write SQLite per request.</summary>
    internal static readonly TimeSpan SeenInterval = TimeSpan.FromMinutes(1);
    private readonly IDeviceStore _devices;
    private readonly ISessionStore _sessions;
    private readonly IAuditLog _audit;
    private readonly DeviceService _deviceService;
    private readonly AtlasOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seenWritten = new(StringComparer.Ordinal);

    public SessionService(IDeviceStore devices, ISessionStore sessions, IAuditLog audit, DeviceService deviceService,
        IOptions<AtlasOptions> options, AtlasTime time)
    {
        _devices = devices;
        _sessions = sessions;
        _audit = audit;
        _deviceService = deviceService;
        _options = options.Value;
        _time = time.Provider;
    }

    public async Task<SessionResponse> CreateAsync(string? credential, int? waitSeconds, string? address, CancellationToken cancellationToken)
    {
        if (!Secrets.TrySplitCredential(credential, out var deviceId, out var secret) || DesktopChat.Is(deviceId))
        {
            AtlasTelemetry.AuthFailures.Add(1);
            throw new AtlasException(ErrorCodes.Unauthorized, "The device credential is missing or malformed; pair the device again.");
        }

        var device = await _devices.GetAsync(deviceId, cancellationToken).ConfigureAwait(false);
        if (device is null && _deviceService.WasDenied(deviceId))
        {
            throw new AtlasException(ErrorCodes.PairingDenied, "The desktop user denied this device (or did not approve it in time).");
        }

        if (device is null || !Secrets.HashEquals(device.CredentialHash, secret))
        {
            AtlasTelemetry.AuthFailures.Add(1);
            await _audit.WriteAsync("auth_failed", null, address, "unknown or revoked device credential", cancellationToken).ConfigureAwait(false);
            throw new AtlasException(ErrorCodes.Unauthorized, "The device credential is not valid (unknown or revoked); pair the device again.");
        }

        if (device.Status == DeviceRecord.Pending)
        {
            device = await _deviceService.WaitForDecisionAsync(device, TimeSpan.FromSeconds(Math.Clamp(waitSeconds ?? 0, 0, 30)),
                cancellationToken).ConfigureAwait(false);
        }

        return await IssueAsync(device, address, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A session of "This desktop" (the caller has checked the admin cookie and loopback); makes its built-in
    /// device record on first use.</summary>
    public async Task<SessionResponse> CreateDesktopAsync(CancellationToken cancellationToken)
    {
        var device = await _devices.GetAsync(DesktopChat.DeviceId, cancellationToken).ConfigureAwait(false);
        if (device is null)
        {
            var now = _time.GetUtcNow();

            // No credential can name this record (its id lacks the dev_ prefix); the hash is of a secret nobody holds.
            device = new DeviceRecord(DesktopChat.DeviceId, DesktopChat.Name, DesktopChat.Platform, DeviceRecord.Active,
                Secrets.Hash(Secrets.NewSecret()), "-", DesktopChat.Permissions, _options.Files.DefaultQuotaBytes, now, now, null, null);
            try
            {
                await _devices.AddAsync(device, cancellationToken).ConfigureAwait(false);
            }
            catch (Microsoft.Data.Sqlite.SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
            {
                // Another tab of the desktop chat made it at the same moment.
                device = await _devices.GetAsync(DesktopChat.DeviceId, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("The built-in record of this desktop vanished while it was made.", e);
            }
        }
        else if (!device.Permissions.SequenceEqual(DesktopChat.Permissions, StringComparer.Ordinal))
        {
            await _devices.UpdatePermissionsAsync(device.Id, DesktopChat.Permissions, device.QuotaBytes, cancellationToken).ConfigureAwait(false);
            device = device with { Permissions = DesktopChat.Permissions };
        }

        return await IssueAsync(device, IPAddress.Loopback.ToString(), cancellationToken).ConfigureAwait(false);
    }

    private async Task<SessionResponse> IssueAsync(DeviceRecord device, string? address, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var token = Secrets.SessionPrefix + Secrets.NewSecret();
        var expiresAt = now + _options.Sessions.Lifetime;
        await _sessions.AddAsync(Secrets.Hash(token), device.Id, now, expiresAt, cancellationToken).ConfigureAwait(false);
        _seenWritten[device.Id] = now;
        await _devices.TouchAsync(device.Id, now, address, cancellationToken).ConfigureAwait(false);
        return new SessionResponse
        {
            SessionToken = token,
            ExpiresAt = expiresAt,
            DeviceId = device.Id,
            Permissions = [.. device.Permissions],
            ServerTime = now,
        };
    }

    public async Task<SessionInfo> ValidateAsync(string? token, CancellationToken cancellationToken)
    {
        if (token is null || !token.StartsWith(Secrets.SessionPrefix, StringComparison.Ordinal)
            || !Secrets.LooksLikeSecret(token[Secrets.SessionPrefix.Length..]))
        {
            throw new AtlasException(ErrorCodes.Unauthorized, "The session token is missing or malformed; get one from POST /auth.");
        }

        var found = await _sessions.FindAsync(Secrets.Hash(token), cancellationToken).ConfigureAwait(false)
            ?? throw new AtlasException(ErrorCodes.Unauthorized, "The session token is not valid (unknown, or the device was revoked).");
        if (found.ExpiresAt <= _time.GetUtcNow())
        {
            throw new AtlasException(ErrorCodes.SessionExpired, "The session has expired; get a new one from POST /auth with the device credential.");
        }

        var device = await _devices.GetAsync(found.DeviceId, cancellationToken).ConfigureAwait(false);
        if (device is not { Status: DeviceRecord.Active })
        {
            throw new AtlasException(ErrorCodes.Revoked, "The device is no longer paired with this desktop.");
        }

        return new SessionInfo(device, found.ExpiresAt);
    }

    /// <summary>Records authenticated activity of a device (a REST request, a frame on its socket): its "last seen" (and
    /// address, when known) moves, at most once per <see cref="SeenInterval"/> per device.</summary>
    public Task SeenAsync(string deviceId, string? address, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        while (true)
        {
            if (!_seenWritten.TryGetValue(deviceId, out var last))
            {
                if (_seenWritten.TryAdd(deviceId, now))
                {
                    break;
                }
            }
            else if (now - last < SeenInterval)
            {
                return Task.CompletedTask;
            }
            else if (_seenWritten.TryUpdate(deviceId, now, last))
            {
                break;
            }
        }

        return _devices.TouchAsync(deviceId, now, address, cancellationToken);
    }
}
