using System.Text.Json.Serialization;
using Atlas.Media.Analysis;
using Atlas.Media.Context;
using Atlas.Media.Description;
using Atlas.Media.Ocr;
using Atlas.Media.Speech;
using Atlas.Media.Video;

namespace Atlas.Media;

/// <summary>The typed result of a media job. Only the parts the task produces are set.</summary>
public sealed record MediaResult
{
    /// <summary>The task that produced the result.</summary>
    public MediaTask Task { get; init; }

    /// <summary>SHA-256 of the input bytes, lower-case hex.</summary>
    public required string ContentHash { get; init; }

    /// <summary>MIME type sniffed from the bytes.</summary>
    public required string ContentType { get; init; }

    /// <summary>Format sniffed from the bytes (<c>jpeg</c>, <c>mp4</c>, …).</summary>
    public required string Format { get; init; }

    /// <summary>Image, video or audio.</summary>
    public MediaKind Kind { get; init; }

    /// <summary>Size of the input in bytes.</summary>
    public long SizeBytes { get; init; }

    /// <summary>When the result was computed.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>True when the result came from the cache.</summary>
    [JsonIgnore]
    public bool FromCache { get; init; }

    /// <summary>Directory holding files that belong to the result (video frames), when there are any.</summary>
    [JsonIgnore]
    public string? ArtifactsDirectory { get; init; }

    /// <summary>Text found in the image (ocr, context).</summary>
    public OcrResult? Ocr { get; init; }

    /// <summary>Image facts (analyze and context of images).</summary>
    public ImageAnalysis? Image { get; init; }

    /// <summary>Recording facts (analyze, frames, transcribe and context of audio and video).</summary>
    public RecordingInfo? Recording { get; init; }

    /// <summary>Extracted frames (frames, context of videos).</summary>
    public FramesResult? Frames { get; init; }

    /// <summary>Transcript (transcribe, context of audio and video).</summary>
    public TranscriptResult? Transcript { get; init; }

    /// <summary>A vision model's description (describe, context on request).</summary>
    public DescriptionResult? Description { get; init; }

    /// <summary>The context card (context).</summary>
    public MediaContext? Context { get; init; }

    /// <summary>What the result leaves out that the request asked for, and why (for example a description asked for
    /// with no vision model configured). Null when nothing was left out.</summary>
    public IReadOnlyList<string>? Warnings { get; init; }

    /// <summary>Full path of an artifact file such as a frame's <see cref="VideoFrame.FileName"/>.</summary>
    /// <param name="fileName">The artifact's file name.</param>
    /// <returns>The path, or null when the result has no artifacts.</returns>
    public string? GetArtifactPath(string fileName) =>
        ArtifactsDirectory is null || fileName.Contains('/', StringComparison.Ordinal) || fileName.Contains('\\', StringComparison.Ordinal)
            ? null
            : Path.Combine(ArtifactsDirectory, fileName);
}
