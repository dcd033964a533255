using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Desktop.Status;
using Atlas.Media;

namespace Atlas.Desktop.Media;

/// <summary>The media jobs each device has in flight, for the <c>jobs</c> section of <c>status_update</c>.</summary>
internal sealed class MediaJobTracker
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, TrackedJob>> _byDevice = new(StringComparer.Ordinal);

    public void Track(string deviceId, string requestId, MediaJob job) =>
        _byDevice.GetOrAdd(deviceId, _ => new(StringComparer.Ordinal))[job.Id] = new TrackedJob(requestId, job);

    public void Forget(string deviceId, MediaJob job)
    {
        if (_byDevice.TryGetValue(deviceId, out var jobs))
        {
            jobs.TryRemove(job.Id, out _);
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
            node["task"] = JsonNamingPolicy.CamelCase.ConvertName(tracked.Job.Task.ToString());
            array.Add(node);
        }

        return array;
    }

    private sealed record TrackedJob(string RequestId, MediaJob Job);
}

/// <summary>Fills the <c>jobs</c> section of <c>status_update</c> with the device's media jobs.</summary>
internal sealed class MediaJobsStatusContributor(MediaJobTracker tracker) : IStatusContributor
{
    public string Name => "jobs";

    public ValueTask<JsonNode?> GetAsync(string deviceId, CancellationToken cancellationToken) => ValueTask.FromResult<JsonNode?>(tracker.Snapshot(deviceId));
}
