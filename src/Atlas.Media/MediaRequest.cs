using Atlas.Media.Context;
using Atlas.Media.Description;
using Atlas.Media.Ocr;
using Atlas.Media.Speech;
using Atlas.Media.Video;

namespace Atlas.Media;

/// <summary>
/// A request to process one media file. Give exactly one of <see cref="FilePath"/> or <see cref="Content"/>; the
/// format is always decided from the bytes. Only the options of the requested task matter (and go into the cache key).
/// </summary>
public sealed record MediaRequest
{
    /// <summary>What to compute.</summary>
    public required MediaTask Task { get; init; }

    /// <summary>A file to read (already authorised by the caller; the MCP tools check their allow-list first).</summary>
    public string? FilePath { get; init; }

    /// <summary>The bytes to process, read to the end but not disposed.</summary>
    public Stream? Content { get; init; }

    /// <summary>The name the user gave the file; shown in messages only, never used to decide the format.</summary>
    public string? FileName { get; init; }

    /// <summary>OCR options.</summary>
    public OcrOptions Ocr { get; init; } = new();

    /// <summary>Frame extraction options.</summary>
    public FramesOptions Frames { get; init; } = new();

    /// <summary>Transcription options.</summary>
    public TranscribeOptions Transcribe { get; init; } = new();

    /// <summary>Description options.</summary>
    public DescribeOptions Describe { get; init; } = new();

    /// <summary>Context card options.</summary>
    public ContextOptions Context { get; init; } = new();

    /// <summary>Compute afresh even when a cached result exists (the new result replaces it).</summary>
    public bool BypassCache { get; init; }

    /// <summary>
    /// Who asks, as an opaque id (Atlas passes the device id; the cache keeps only its SHA-256). The cache stays shared,
    /// so a requester still gets another's cached result at once, but it is reported as
    /// <see cref="MediaResult.FromCache"/> (and keeps its first <see cref="MediaResult.CreatedAt"/>) only when this
    /// requester asked for the same content, task and options before; otherwise it looks freshly computed, so
    /// <c>fromCache</c> does not tell one requester what another processed. Null (the local user, the MCP tools):
    /// every hit is reported.
    /// </summary>
    public string? Requester { get; init; }

    /// <summary>A request for a file on disk.</summary>
    /// <param name="task">What to compute.</param>
    /// <param name="path">The file.</param>
    /// <returns>The request.</returns>
    public static MediaRequest ForFile(MediaTask task, string path) => new() { Task = task, FilePath = path };
}
