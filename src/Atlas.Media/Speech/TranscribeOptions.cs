namespace Atlas.Media.Speech;

/// <summary>Options of the <see cref="MediaTask.Transcribe"/> task (part of the cache key).</summary>
public sealed record TranscribeOptions
{
    /// <summary>Spoken language. Only <c>en-us</c> has a recogniser installed. Default: <c>en-us</c>.</summary>
    public string Language { get; init; } = "en-us";
}

/// <summary>A transcript with word timings.</summary>
public sealed record TranscriptResult
{
    /// <summary>The recogniser (<c>pocketsphinx</c>).</summary>
    public required string Engine { get; init; }

    /// <summary>The language recognised.</summary>
    public required string Language { get; init; }

    /// <summary>The transcript, one line per segment.</summary>
    public required string Text { get; init; }

    /// <summary>Length of the audio in seconds.</summary>
    public double DurationSeconds { get; init; }

    /// <summary>Mean word confidence, 0–1.</summary>
    public double MeanConfidence { get; init; }

    /// <summary>Speech segments (split at pauses).</summary>
    public IReadOnlyList<TranscriptSegment> Segments { get; init; } = [];

    /// <summary>Recognised words with start and end times.</summary>
    public IReadOnlyList<TranscriptWord> Words { get; init; } = [];
}

/// <summary>A stretch of speech between pauses.</summary>
public sealed record TranscriptSegment
{
    /// <summary>Start in seconds.</summary>
    public double Start { get; init; }

    /// <summary>End in seconds.</summary>
    public double End { get; init; }

    /// <summary>The words of the segment.</summary>
    public required string Text { get; init; }
}

/// <summary>One recognised word.</summary>
public sealed record TranscriptWord
{
    /// <summary>The word.</summary>
    public required string Text { get; init; }

    /// <summary>Start in seconds.</summary>
    public double Start { get; init; }

    /// <summary>End in seconds.</summary>
    public double End { get; init; }

    /// <summary>Posterior probability, 0–1.</summary>
    public double Confidence { get; init; }
}
