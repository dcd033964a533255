using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Status;
using Atlas.Media;

namespace Atlas.Desktop.Media;

/// <summary>The media jobs each device has in flight (for the <c>jobs</c> section of <c>status_update</c>), and for the
/// admin UI every job in flight plus the most recent finished ones with their outcome and duration.</summary>
internal sealed class MediaJobTracker
{
    /// <summary>How many finished jobs the admin UI's "recent" list keeps (in memory: a restart starts it empty).</summary>
    public const int RecentCapacity = 50;

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, TrackedJob>> _byDevice = new(StringComparer.Ordinal);
    private readonly LinkedList<FinishedJob> _recent = new();
    private readonly Lock _recentGate = new();
    private readonly TimeProvider _time;
    private readonly Devices.DeviceLifetimes _devices;

    /// <summary>Raised after a job was tracked, finished or forgotten (the admin page's media jobs card).</summary>
    public event Action? Changed;

    public MediaJobTracker(AtlasTime time, Devices.DeviceLifetimes devices)
    {
        _time = time.Provider;
        _devices = devices;

        // A revoked device's jobs stop at once: their tool processes end and nothing more is done for it.
        devices.Revoked += CancelDevice;
    }

    /// <summary>Cancels every job of a device in flight (it was revoked).</summary>
    public void CancelDevice(string deviceId)
    {
        if (_byDevice.TryGetValue(deviceId, out var jobs))
        {
            foreach (var tracked in jobs.Values.Where(t => !t.Job.Completion.IsCompleted))
            {
                tracked.Job.Cancel();
            }
        }
    }

    public void Track(string deviceId, string requestId, MediaJob job, string fileName)
    {
        var tracked = new TrackedJob(deviceId, requestId, job, fileName, _time.GetUtcNow());
        _byDevice.GetOrAdd(deviceId, _ => new(StringComparer.Ordinal))[job.Id] = tracked;
        _ = job.Completion.ContinueWith(_ => Record(tracked), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        // Revoked between submitting and tracking: the revocation's sweep missed this job, so it stops here.
        if (_devices.IsRevoked(deviceId))
        {
            job.Cancel();
        }

        Changed?.Invoke();
    }

    public void Forget(string deviceId, MediaJob job)
    {
        if (_byDevice.TryGetValue(deviceId, out var jobs) && jobs.TryRemove(job.Id, out var tracked))
        {
            Record(tracked);
        }
    }

    public JsonArray Snapshot(string deviceId)
    {
        var array = new JsonArray();
        if (!_byDevice.TryGetValue(deviceId, out var jobs))
        {
            return array;
        }

        foreach (var tracked in jobs.Values.OrderBy(j => j.Job.Id, StringComparer.Ordinal))
        {
            var progress = tracked.Job.Progress;
            var node = JsonSerializer.SerializeToNode(progress, MediaJsonContext.Default.MediaProgress)!.AsObject();
            node["requestId"] = tracked.RequestId;
            node["task"] = TaskName(tracked.Job.Task);
            array.Add(node);
        }

        return array;
    }

    /// <summary>Every job still in flight, oldest first.</summary>
    public IReadOnlyList<TrackedJob> Active() =>
        [.. _byDevice.Values.SelectMany(j => j.Values).Where(t => !t.Job.Completion.IsCompleted).OrderBy(t => t.StartedAt)];

    /// <summary>The most recent finished jobs, newest first.</summary>
    public IReadOnlyList<FinishedJob> Recent()
    {
        lock (_recentGate)
        {
            return [.. _recent];
        }
    }

    /// <summary>Cancels a job in flight (queued or running; its tool process is stopped). False when no such job is in flight.</summary>
    public bool Cancel(string jobId)
    {
        var tracked = _byDevice.Values.Select(j => j.GetValueOrDefault(jobId)).FirstOrDefault(t => t is not null);
        if (tracked is null || tracked.Job.Completion.IsCompleted)
        {
            return false;
        }

        tracked.Job.Cancel();
        return true;
    }

    public static string TaskName(MediaTask task) => JsonNamingPolicy.CamelCase.ConvertName(task.ToString());

    /// <summary>Moves a finished job to the recent list, once (both the completion continuation and <see cref="Forget"/> get here).</summary>
    private void Record(TrackedJob tracked)
    {
        if (!tracked.Job.Completion.IsCompleted || Interlocked.Exchange(ref tracked.Recorded, 1) == 1)
        {
            return;
        }

        var completion = tracked.Job.Completion;
#pragma warning disable RS0030 // read only once complete (IsCompletedSuccessfully): does not block
        var finished = new FinishedJob(tracked, _time.GetUtcNow() - tracked.StartedAt,
            completion.IsCompletedSuccessfully ? completion.Result.FromCache : null,
            completion.Exception?.InnerException?.Message);
#pragma warning restore RS0030
        lock (_recentGate)
        {
            _recent.AddFirst(finished);
            while (_recent.Count > RecentCapacity)
            {
                _recent.RemoveLast();
            }
        }

        Changed?.Invoke();
    }

    internal sealed record TrackedJob(string DeviceId, string RequestId, MediaJob Job, string FileName, DateTimeOffset StartedAt)
    {
        public int Recorded;
    }

    internal sealed record FinishedJob(TrackedJob Tracked, TimeSpan Duration, bool? FromCache, string? Error);
}

/// <summary>Fills the <c>jobs</c> section of <c>status_update</c> with the device's media jobs.</summary>
internal sealed class MediaJobsStatusContributor(MediaJobTracker tracker) : IStatusContributor
{
    public string Name => "jobs";

    public ValueTask<JsonNode?> GetAsync(string deviceId, CancellationToken cancellationToken) => ValueTask.FromResult<JsonNode?>(tracker.Snapshot(deviceId));
}
