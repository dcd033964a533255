using Atlas.Media.Ocr;

namespace Atlas.Media.Video;

/// <summary>Options of the <see cref="MediaTask.Frames"/> task (part of the cache key).</summary>
public sealed record FramesOptions
{
    /// <summary>How frames are chosen. Default: <see cref="FrameSelection.Scenes"/>.</summary>
    public FrameSelection Mode { get; init; } = FrameSelection.Scenes;

    /// <summary>Seconds between frames in <see cref="FrameSelection.Interval"/> mode (0.1–3600). Default: 5.</summary>
    public double IntervalSeconds { get; init; } = 5;

    /// <summary>Scene-change score (0.05–0.95) above which a frame starts a new scene. Default: 0.3.</summary>
    public double SceneThreshold { get; init; } = 0.3;

    /// <summary>Most frames returned (1–500). Default: 30.</summary>
    public int MaxFrames { get; init; } = 30;

    /// <summary>Frames wider than this are scaled down (64–3840). Default: 1280.</summary>
    public int MaxWidth { get; init; } = 1280;

    /// <summary>Run OCR on every frame. Default: false.</summary>
    public bool Ocr { get; init; }

    /// <summary>OCR options for frames; the default engine for frames is the scene-text engine (<c>ppocr</c>) when installed.</summary>
    public OcrOptions? OcrOptions { get; init; }
}

/// <summary>How video frames are chosen.</summary>
public enum FrameSelection
{
    /// <summary>The first frame and every frame that starts a new scene (hard cuts).</summary>
    Scenes,

    /// <summary>One frame every <see cref="FramesOptions.IntervalSeconds"/>.</summary>
    Interval,

    /// <summary>The encoder's key frames only (fastest: nothing else is decoded).</summary>
    KeyFrames,
}

/// <summary>Frames taken from a video.</summary>
public sealed record FramesResult
{
    /// <summary>How the frames were chosen.</summary>
    public FrameSelection Mode { get; init; }

    /// <summary>The video's duration in seconds.</summary>
    public double DurationSeconds { get; init; }

    /// <summary>The frames in time order.</summary>
    public IReadOnlyList<VideoFrame> Frames { get; init; } = [];
}

/// <summary>One extracted frame, stored as a JPEG file next to the cached result.</summary>
public sealed record VideoFrame
{
    /// <summary>Position in the list, from 0.</summary>
    public int Index { get; init; }

    /// <summary>Time of the frame in seconds from the start.</summary>
    public double Seconds { get; init; }

    /// <summary>The JPEG file's name inside <see cref="MediaResult.ArtifactsDirectory"/>.</summary>
    public required string FileName { get; init; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; init; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; init; }

    /// <summary>Text found on the frame, when OCR was requested.</summary>
    public OcrResult? Ocr { get; init; }
}
