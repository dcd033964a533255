using Atlas.Media.Jobs;

namespace Atlas.Media;

/// <summary>
/// Configuration of the media pipeline (section <c>Atlas:Media</c> in Atlas.Desktop). Every property has a working
/// default; <see cref="AtlasMediaOptionsValidator"/> checks the values at startup.
/// </summary>
public sealed class AtlasMediaOptions
{
    /// <summary>Directory of the result cache (SQLite index + result files). Default: <c>$XDG_CACHE_HOME/atlas/media</c>, else <c>~/.cache/atlas/media</c>.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Directory for per-job scratch files (private, 0700, cleaned after each job). Default: <c>$TMPDIR/atlas-media-&lt;user&gt;</c>.</summary>
    public string? WorkDirectory { get; set; }

    /// <summary>
    /// Directory holding the ONNX models fetched by <c>eng/fetch-models.sh</c> (<c>ppocr/</c>, <c>blazeface/</c>).
    /// Default: the <c>ATLAS_MEDIA_MODELS</c> environment variable, else the first <c>.tools/models</c> found walking
    /// up from the application directory.
    /// </summary>
    public string? ModelsDirectory { get; set; }

    /// <summary>Jobs that run at the same time. Default: the number of processor cores.</summary>
    public int MaxConcurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>Jobs that may wait in the queue. Default: 64.</summary>
    public int QueueCapacity { get; set; } = 64;

    /// <summary>Jobs one requester (<see cref="MediaRequest.Requester"/>; in Atlas a paired device) may have waiting or
    /// running at once; one more is refused at once with <see cref="MediaErrorCode.QueueFull"/>, so one requester can take
    /// neither the whole queue nor its staged copies. Requests without a requester are not counted; 0 turns the limit
    /// off. Default: 4.</summary>
    public int MaxJobsPerRequester { get; set; } = 4;

    /// <summary>What a submission does when the queue is full. Default: <see cref="MediaQueueFullMode.Wait"/> (backpressure).</summary>
    public MediaQueueFullMode QueueFullMode { get; set; } = MediaQueueFullMode.Wait;

    /// <summary>Largest accepted input in bytes. Default: 512 MiB.</summary>
    public long MaxInputBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Largest accepted image or video frame in pixels (decompression bombs). Default: 100 million (e.g. 12,000 × 8,000).</summary>
    public long MaxPixels { get; set; } = 100_000_000;

    /// <summary>Longest accepted audio or video. Default: 1 hour.</summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Wall-clock limit of one external program run (tesseract, ffmpeg, pocketsphinx, zbarimg). Default: 20 minutes.</summary>
    public TimeSpan ToolTimeout { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>Address-space limit (RLIMIT_AS) of one external program run in bytes. Default: 2 GiB.</summary>
    public long ToolMemoryLimitBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Total size of cached results before the least recently used are evicted. Default: 1 GiB.</summary>
    public long CacheMaxBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Number of cached results before the least recently used are evicted. Default: 10,000.</summary>
    public int CacheMaxEntries { get; set; } = 10_000;

    /// <summary>Directories whose files the MCP tools may read (after resolving symbolic links). Default: none, so every path is refused.</summary>
    public IList<string> AllowedRoots { get; set; } = [];

    /// <summary>Model id sent with describe requests; null uses the chat client's default model. Default: null.</summary>
    public string? DescribeModel { get; set; }

    /// <summary>Time limit of one describe call to the LLM endpoint. Default: 2 minutes.</summary>
    public TimeSpan DescribeTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Longest side in pixels of images sent to the vision model (larger ones are downscaled). Default: 1024.</summary>
    public int DescribeMaxImageSide { get; set; } = 1024;
}
