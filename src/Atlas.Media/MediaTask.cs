namespace Atlas.Media;

/// <summary>What a media job computes.</summary>
public enum MediaTask
{
    /// <summary>Text in an image, with per-word confidences and boxes.</summary>
    Ocr,

    /// <summary>Facts about an image (format, size, EXIF, colours, brightness, blur, codes, faces) or a recording (streams, duration).</summary>
    Analyze,

    /// <summary>Scene-change or interval frames of a video, optionally with OCR per frame.</summary>
    Frames,

    /// <summary>A transcript with word timestamps of an audio file or of a video's audio track.</summary>
    Transcribe,

    /// <summary>A description of an image or of a video's frames by a vision model.</summary>
    Describe,

    /// <summary>A compact "context card" for an LLM that combines the tasks that fit the media kind.</summary>
    Context,
}

/// <summary>The kind of media, decided from the bytes.</summary>
public enum MediaKind
{
    /// <summary>A still image.</summary>
    Image,

    /// <summary>A recording with at least one video stream.</summary>
    Video,

    /// <summary>A recording with audio streams only.</summary>
    Audio,
}
