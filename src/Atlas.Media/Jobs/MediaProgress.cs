namespace Atlas.Media;

/// <summary>
/// A progress report of a media job; Atlas.Desktop maps it to a <c>status_update</c> message.
/// </summary>
public sealed record MediaProgress
{
    /// <summary>The job.</summary>
    public required string JobId { get; init; }

    /// <summary>The job's state.</summary>
    public MediaJobStatus Status { get; init; }

    /// <summary>What is happening: <c>queued</c>, <c>probing</c>, <c>ocr</c>, <c>frames</c>, <c>transcribing</c>, <c>describing</c>, <c>done</c>, ….</summary>
    public required string Stage { get; init; }

    /// <summary>Fraction of the job done, 0–1, when known.</summary>
    public double? Fraction { get; init; }

    /// <summary>A short human-readable note.</summary>
    public string? Message { get; init; }
}

/// <summary>The state of a media job.</summary>
public enum MediaJobStatus
{
    /// <summary>Waiting for a worker.</summary>
    Queued,

    /// <summary>Being processed.</summary>
    Running,

    /// <summary>Finished with a result.</summary>
    Succeeded,

    /// <summary>Finished with an error.</summary>
    Failed,

    /// <summary>Cancelled before it finished.</summary>
    Cancelled,
}
