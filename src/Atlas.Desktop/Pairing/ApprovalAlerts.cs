using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Storage;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Pairing;

/// <summary>
/// Makes a phone waiting for approval impossible to miss: open admin pages update at once (they show a banner), the
/// desktop shows a notification through <c>notify-send</c> where it is installed, and <c>atlas serve</c> prints one
/// line in its terminal (it subscribes to <see cref="Waiting"/>). When the request's approval timeout passes, open
/// admin pages are told again, so their banner goes away at the moment the request is denied.
/// </summary>
internal sealed class ApprovalAlerts : IDisposable
{
    private readonly AdminEvents _events;
    private readonly NotificationOptions _options;
    private readonly TimeSpan _approvalTimeout;
    private readonly DesktopInfo _desktop;
    private readonly TimeProvider _time;
    private readonly ILogger<ApprovalAlerts> _logger;
    private readonly ConcurrentDictionary<string, ITimer> _expiries = new(StringComparer.Ordinal);

    public ApprovalAlerts(AdminEvents events, IOptions<AtlasOptions> options, DesktopInfo desktop, AtlasTime time, ILogger<ApprovalAlerts> logger)
    {
        _events = events;
        _options = options.Value.Notifications;
        _approvalTimeout = options.Value.Pairing.ApprovalTimeout;
        _desktop = desktop;
        _time = time.Provider;
        _logger = logger;
    }

    /// <summary>Raised when a device waits for the desktop user's approval.</summary>
    public event Action<DeviceRecord>? Waiting;

    /// <summary>The last desktop notification's process, for tests (completes when notify-send exited or was skipped).</summary>
    internal Task LastNotification { get; private set; } = Task.CompletedTask;

    /// <summary>Announces a device waiting for approval; never blocks pairing and never throws.</summary>
    public void DeviceWaiting(DeviceRecord device)
    {
        _events.Publish(AdminEvents.Devices);
        RefreshWhenExpired(device);
        try
        {
            Waiting?.Invoke(device);
        }
        catch (IOException e)
        {
            Log.ApprovalAlertFailed(_logger, "terminal", e.Message);
        }

        if (_options.Desktop)
        {
            LastNotification = NotifyAsync(device);
        }
    }

    public void Dispose()
    {
        foreach (var id in _expiries.Keys)
        {
            if (_expiries.TryRemove(id, out var timer))
            {
                timer.Dispose();
            }
        }
    }

    /// <summary>At the request's expiry, admin pages reload the devices; listing them denies the expired request
    /// (DeviceService). The timer is kept referenced until it fires, so it cannot be collected before.</summary>
    private void RefreshWhenExpired(DeviceRecord device)
    {
        var timer = _time.CreateTimer(_ =>
        {
            if (_expiries.TryRemove(device.Id, out var fired))
            {
                fired.Dispose();
            }

            _events.Publish(AdminEvents.Devices);
        }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _expiries[device.Id] = timer;
        var due = device.CreatedAt + _approvalTimeout - _time.GetUtcNow();
        timer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Runs <c>notify-send</c> as a child process with an argument list (never a shell); <c>--</c> ends the
    /// options, so a device named <c>--help</c> or <c>-u low</c> is shown as text, not taken as an option.</summary>
    private async Task NotifyAsync(DeviceRecord device)
    {
        var command = Locate(_options.Command);
        if (command is null)
        {
            Log.NotifierMissing(_logger, _options.Command);
            return;
        }

        var start = new ProcessStartInfo(command)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
        {
            "--app-name=Atlas", "--urgency=critical", "--icon=phone", "--category=device",
            "--",
            $"Approve {device.Name}?",
            $"A phone ({device.Platform}) wants to pair with {_desktop.Name}. Check code {device.CheckCode}: approve only if the "
                + $"phone shows the same. Admin UI: {_desktop.AdminBaseUri}admin, or run: atlas devices approve {device.Id}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return;
            }

            process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var error = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            await output.ConfigureAwait(false);
            var message = await error.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                Log.ApprovalAlertFailed(_logger, command, $"exit code {process.ExitCode}: {message.Trim()}");
            }
        }
        catch (Exception e) when (e is Win32Exception or IOException or InvalidOperationException or OperationCanceledException)
        {
            Log.ApprovalAlertFailed(_logger, command, e.Message);
        }
    }

    /// <summary>A command with a slash is used as it is; a bare name is looked up on <c>PATH</c>.</summary>
    internal static string? Locate(string command)
    {
        if (command.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(command) ? command : null;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, command);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
