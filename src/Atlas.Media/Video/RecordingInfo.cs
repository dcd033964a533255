namespace Atlas.Media.Video;

/// <summary>Facts about an audio or video recording, read by ffprobe.</summary>
public sealed record RecordingInfo
{
    /// <summary>The container as named by ffprobe (e.g. <c>mov,mp4,m4a,3gp,3g2,mj2</c>).</summary>
    public required string Container { get; init; }

    /// <summary>Duration in seconds.</summary>
    public double DurationSeconds { get; init; }

    /// <summary>Overall bit rate in bits per second, when known.</summary>
    public long? BitRate { get; init; }

    /// <summary>When the recording was made, from the container's <c>creation_time</c> tag.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>ISO 6709 location tag written by phones (e.g. <c>+52.5200+013.4050/</c>), when present.</summary>
    public string? Location { get; init; }

    /// <summary>The audio and video streams (cover-art pictures excluded).</summary>
    public IReadOnlyList<StreamInfo> Streams { get; init; } = [];
}

/// <summary>One stream of a recording.</summary>
public sealed record StreamInfo
{
    /// <summary><c>video</c> or <c>audio</c>.</summary>
    public required string Type { get; init; }

    /// <summary>Codec name (<c>h264</c>, <c>aac</c>, …).</summary>
    public required string Codec { get; init; }

    /// <summary>Width in pixels (video).</summary>
    public int? Width { get; init; }

    /// <summary>Height in pixels (video).</summary>
    public int? Height { get; init; }

    /// <summary>Average frame rate (video).</summary>
    public double? FrameRate { get; init; }

    /// <summary>Display rotation in degrees (video), from the display matrix or the rotate tag.</summary>
    public int? Rotation { get; init; }

    /// <summary>Sample rate in Hz (audio).</summary>
    public int? SampleRate { get; init; }

    /// <summary>Channel count (audio).</summary>
    public int? Channels { get; init; }
}
