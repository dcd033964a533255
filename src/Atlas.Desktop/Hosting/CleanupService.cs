using Atlas.Desktop.Devices;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Files;
using Atlas.Desktop.Storage;


namespace Atlas.Desktop.Hosting;

/// <summary>Every ten minutes: deletes expired sessions and abandoned uploads, and denies pairing requests that waited
/// past <c>Atlas:Pairing:ApprovalTimeout</c>.</summary>
internal sealed class CleanupService : BackgroundService
{
    private readonly ISessionStore _sessions;
    private readonly UploadService _uploads;
    private readonly DeviceService _devices;
    private readonly TimeProvider _time;
    private readonly ILogger<CleanupService> _logger;
    private readonly TaskCompletionSource _firstSweep = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CleanupService(ISessionStore sessions, UploadService uploads, DeviceService devices, AtlasTime time, ILogger<CleanupService> logger)
    {
        _sessions = sessions;
        _uploads = uploads;
        _devices = devices;
        _time = time.Provider;
        _logger = logger;
    }

    /// <summary>Gets a task that completes when the sweep made at startup has ended (done, failed or stopped).</summary>
    internal Task FirstSweep => _firstSweep.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(10), _time);
        do
        {
            try
            {
                await _sessions.DeleteExpiredAsync(_time.GetUtcNow(), stoppingToken).ConfigureAwait(false);
                await _uploads.PurgeExpiredAsync(stoppingToken).ConfigureAwait(false);
                await _devices.ExpireOverdueAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Loop boundary: a failed sweep is retried next time.
                Log.CleanupFailed(_logger, e);
            }
            finally
            {
                _firstSweep.TrySetResult();
            }
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
