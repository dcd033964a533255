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
/// line in its terminal (it subscribes to <see cref="Waiting"/>).
/// </summary>
internal sealed class ApprovalAlerts
{
    private readonly AdminEvents _events;
    private readonly NotificationOptions _options;
    private readonly DesktopInfo _desktop;
    private readonly ILogger<ApprovalAlerts> _logger;

    public ApprovalAlerts(AdminEvents events, IOptions<AtlasOptions> options, DesktopInfo desktop, ILogger<ApprovalAlerts> logger)
    {
        _events = events;
        _options = options.Value.Notifications;
        _desktop = desktop;
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
