using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Atlas.Media.Diagnostics;

/// <summary>The <c>Atlas.Media</c> meter and activity source: jobs, cache, queue depth and external tool runs.</summary>
internal static class MediaTelemetry
{
    public const string Name = "Atlas.Media";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> JobsSubmitted = Meter.CreateCounter<long>("atlas.media.jobs.submitted", "{job}", "Jobs submitted.");

    public static readonly Counter<long> JobsCompleted = Meter.CreateCounter<long>("atlas.media.jobs.completed", "{job}", "Jobs finished, tagged with task and outcome.");

    public static readonly Histogram<double> JobDuration = Meter.CreateHistogram<double>("atlas.media.job.duration", "s", "Time from start to end of a job.");

    public static readonly Counter<long> CacheHits = Meter.CreateCounter<long>("atlas.media.cache.hits", "{result}", "Results answered from the cache.");

    public static readonly Counter<long> CacheMisses = Meter.CreateCounter<long>("atlas.media.cache.misses", "{result}", "Results that had to be computed.");

    public static readonly Counter<long> CacheEvictions = Meter.CreateCounter<long>("atlas.media.cache.evictions", "{result}", "Cached results evicted by the size limits.");

    public static readonly UpDownCounter<long> QueueDepth = Meter.CreateUpDownCounter<long>("atlas.media.queue.depth", "{job}", "Jobs waiting for a worker.");

    public static readonly Histogram<double> ToolDuration = Meter.CreateHistogram<double>("atlas.media.tool.duration", "s", "Duration of external program runs, tagged with the tool.");

    public static readonly Counter<long> ToolFailures = Meter.CreateCounter<long>("atlas.media.tool.failures", "{run}", "External program runs that failed, tagged with tool and reason.");
}
