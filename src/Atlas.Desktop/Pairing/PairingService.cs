using Atlas.Client;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Storage;
using Microsoft.Extensions.Options;
using Shared.Text;

namespace Atlas.Desktop.Pairing;

/// <summary>A freshly created pairing ticket. The plain ticket exists only here and in the QR code; the store keeps its hash.</summary>
internal sealed record PairingTicket(string Url, DateTimeOffset ExpiresAt, string Fingerprint);

/// <summary>The state shown to the desktop user.</summary>
internal sealed record PairingState(bool Closed, int RecentFailures, PairingTicket? Current);

/// <summary>Pairing tickets: 256-bit, single use, short-lived, stored hashed, consumed atomically. Failed redemptions
/// are counted per address: an address with <c>MaxFailures</c> of them is refused for the failure window, while pairing
/// stays open for everyone else (a stranger on the LAN cannot keep the desktop user's phone from pairing). Failures from
/// <c>MaxFailingAddresses</c> addresses close pairing for everyone. A new pairing window (a new QR code) reopens
/// everything at once.</summary>
internal sealed class PairingService
{
    private readonly ITicketStore _tickets;
    private readonly IDeviceStore _devices;
    private readonly IAuditLog _audit;
    private readonly DesktopInfo _desktop;
    private readonly AtlasOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<PairingService> _logger;
    private readonly ApprovalAlerts _alerts;
    private readonly Admin.AdminEvents _events;
    private readonly Lock _lock = new();
    private readonly Queue<(DateTimeOffset At, string Address)> _failures = new();
    private bool _closed;
    private PairingTicket? _current;

    public PairingService(ITicketStore tickets, IDeviceStore devices, IAuditLog audit, DesktopInfo desktop, IOptions<AtlasOptions> options,
        AtlasTime time, ILogger<PairingService> logger, ApprovalAlerts alerts, Admin.AdminEvents events)
    {
        _alerts = alerts;
        _events = events;
        _tickets = tickets;
        _devices = devices;
        _audit = audit;
        _desktop = desktop;
        _options = options.Value;
        _time = time.Provider;
        _logger = logger;
    }

    public string Fingerprint => _desktop.Pin;

    public string ApprovalMode => _options.Pairing.AutoApprove ? "auto" : "prompt";

    public PairingState State
    {
        get
        {
            lock (_lock)
            {
                var current = _current is { } c && c.ExpiresAt > _time.GetUtcNow() ? c : null;
                return new PairingState(_closed, CountRecentFailures(), current);
            }
        }
    }

    /// <summary>Creates a ticket and (re)opens pairing.</summary>
    public async Task<PairingTicket> CreateTicketAsync(CancellationToken cancellationToken)
    {
        var ticket = Secrets.NewSecret();
        var now = _time.GetUtcNow();
        var expiresAt = now + _options.Pairing.TicketLifetime;
        await _tickets.AddAsync(Secrets.Hash(ticket), now, expiresAt, cancellationToken).ConfigureAwait(false);
        var url = PairingLink.Format(_desktop.PairingBaseUri, ticket, _desktop.Pin, expiresAt, _desktop.Name);
        var created = new PairingTicket(url, DateTimeOffset.FromUnixTimeSeconds(expiresAt.ToUnixTimeSeconds()), _desktop.Pin);
        lock (_lock)
        {
            _closed = false;
            _failures.Clear();
            _current = created;
        }

        _events.Publish(Admin.AdminEvents.Pairing);

        await _audit.WriteAsync("pairing_opened", null, null, null, cancellationToken).ConfigureAwait(false);
        return created;
    }

    public async Task<PairingResponse> RedeemAsync(AuthRequest request, string address, CancellationToken cancellationToken)
    {
        bool closed, locked;
        lock (_lock)
        {
            closed = _closed;
            CountRecentFailures();
            locked = FailuresFrom(address) >= _options.Pairing.MaxFailures;
        }

        if (closed)
        {
            await _audit.WriteAsync("pairing_refused_closed", null, address, null, cancellationToken).ConfigureAwait(false);
            throw new AtlasException(ErrorCodes.PairingClosed,
                "Pairing is closed after failed attempts from several addresses. Open a new pairing window on the desktop ('atlas pair').");
        }

        if (locked)
        {
            await _audit.WriteAsync("pairing_refused_address", null, address, null, cancellationToken).ConfigureAwait(false);
            throw new AtlasException(ErrorCodes.PairingClosed,
                "Pairing is closed for this address after too many failed attempts; it stays open for other devices. "
                + "Open a new pairing window on the desktop ('atlas pair') or try again later.");
        }

        var name = (request.DeviceName ?? "").Trim();
        var platform = (request.Platform ?? "unknown").Trim().ToLowerInvariant();
        var nonce = request.ClientNonce ?? "";
        if (name.Length is 0 or > 64 || name.Any(char.IsControl))
        {
            throw new AtlasException(ErrorCodes.BadRequest, "deviceName must be 1 to 64 printable characters.");
        }

        if (BidiControls.In(name))
        {
            // Shown next to the check code on the desktop: an override could reverse the rest of that line.
            throw new AtlasException(ErrorCodes.BadRequest,
                "deviceName must not contain characters that change the text direction (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C).");
        }

        if (platform.Length is 0 or > 32 || !platform.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            throw new AtlasException(ErrorCodes.BadRequest, "platform must be 1 to 32 characters of a-z, 0-9, '.', '-' or '_'.");
        }

        if (nonce.Length > 64)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "clientNonce must be at most 64 characters.");
        }

        var now = _time.GetUtcNow();
        var ticket = request.Ticket;
        var consumed = Secrets.LooksLikeSecret(ticket)
            && await _tickets.ConsumeAsync(Secrets.Hash(ticket!), now, cancellationToken).ConfigureAwait(false);
        if (!consumed)
        {
            await RecordFailureAsync(address, cancellationToken).ConfigureAwait(false);
            AtlasTelemetry.AuthFailures.Add(1);
            throw new AtlasException(ErrorCodes.PairingFailed,
                "This pairing link is not valid: it was already used, has expired, or was never issued. Show a new QR code on the desktop.");
        }

        var autoApprove = _options.Pairing.AutoApprove;
        var deviceId = Secrets.NewDeviceId();
        var secret = Secrets.NewSecret();
        var checkCode = CheckCode.Compute(_desktop.Pin, ticket!, nonce);
        var device = new DeviceRecord(deviceId, name, platform, autoApprove ? DeviceRecord.Active : DeviceRecord.Pending,
            Secrets.Hash(secret), checkCode, [.. _options.Pairing.DefaultPermissions], _options.Files.DefaultQuotaBytes, now,
            autoApprove ? now : null, null, address);
        await _devices.AddAsync(device, cancellationToken).ConfigureAwait(false);
        await _audit.WriteAsync("device_paired", deviceId, address, $"{name} ({platform}) check {checkCode}", cancellationToken).ConfigureAwait(false);
        AtlasTelemetry.Pairings.Add(1);
        Log.DevicePaired(_logger, deviceId, name, platform, address, checkCode, device.Status);
        lock (_lock)
        {
            if (_current is not null && _current.Url.Contains(ticket!, StringComparison.Ordinal))
            {
                _current = null;
            }
        }

        _events.Publish(Admin.AdminEvents.Pairing);
        if (device.Status == DeviceRecord.Pending)
        {
            _alerts.DeviceWaiting(device);
        }
        else
        {
            _events.Publish(Admin.AdminEvents.Devices);
        }

        return new PairingResponse
        {
            Status = device.Status == DeviceRecord.Active ? "approved" : "pending",
            DeviceId = deviceId,
            DeviceCredential = deviceId + "." + secret,
            CheckCode = checkCode,
            Fingerprint = _desktop.Pin,
            DesktopName = _desktop.Name,
            Permissions = autoApprove ? [.. device.Permissions] : [],
        };
    }

    private async Task RecordFailureAsync(string address, CancellationToken cancellationToken)
    {
        int failures, fromAddress, addresses;
        var closeNow = false;
        lock (_lock)
        {
            _failures.Enqueue((_time.GetUtcNow(), address));
            failures = CountRecentFailures();
            fromAddress = FailuresFrom(address);
            addresses = _failures.Select(f => f.Address).Distinct(StringComparer.Ordinal).Count();
            if (addresses >= _options.Pairing.MaxFailingAddresses && !_closed)
            {
                _closed = true;
                _current = null;
                closeNow = true;
            }
        }

        Log.PairingFailed(_logger, address, failures);
        await _audit.WriteAsync("pairing_failed", null, address, null, cancellationToken).ConfigureAwait(false);
        if (fromAddress == _options.Pairing.MaxFailures)
        {
            // Only this address is refused from now on; the ticket in the QR code stays valid for the desktop user's phone.
            await _audit.WriteAsync("pairing_address_locked", null, address, $"{fromAddress} failed attempts", cancellationToken).ConfigureAwait(false);
            Log.PairingAddressLocked(_logger, address, fromAddress);
        }

        if (closeNow)
        {
            // Burn the window: every outstanding ticket dies, so a guesser gains nothing by continuing.
            await _tickets.DeleteAllAsync(cancellationToken).ConfigureAwait(false);
            await _audit.WriteAsync("pairing_closed", null, address, $"{failures} failed attempts from {addresses} addresses", cancellationToken).ConfigureAwait(false);
            Log.PairingClosed(_logger, failures);
            _events.Publish(Admin.AdminEvents.Pairing);
        }
    }

    private int CountRecentFailures()
    {
        var horizon = _time.GetUtcNow() - _options.Pairing.FailureWindow;
        while (_failures.TryPeek(out var oldest) && oldest.At <= horizon)
        {
            _failures.Dequeue();
        }

        return _failures.Count;
    }

    private int FailuresFrom(string address) => _failures.Count(f => string.Equals(f.Address, address, StringComparison.Ordinal));
}
