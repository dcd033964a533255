namespace Atlas.Media;

/// <summary>
/// Stable error codes of the media pipeline. The string form (<see cref="MediaErrors.ToWire(MediaErrorCode)"/>) is
/// part of the wire protocol: Atlas.Desktop sends it as the <c>code</c> of an <c>error</c> or failed <c>media_result</c>.
/// </summary>
public enum MediaErrorCode
{
    /// <summary>The request itself is invalid (missing input, option out of range, task not applicable).</summary>
    InvalidRequest,

    /// <summary>The bytes are not a media format the pipeline accepts.</summary>
    UnsupportedFormat,

    /// <summary>The input refers to other files or URLs (playlists, concat scripts) and is refused.</summary>
    UnsafeInput,

    /// <summary>The input is larger than <see cref="AtlasMediaOptions.MaxInputBytes"/>.</summary>
    TooLarge,

    /// <summary>The image or video frame has more pixels than <see cref="AtlasMediaOptions.MaxPixels"/> (decompression bombs).</summary>
    TooManyPixels,

    /// <summary>The audio or video is longer than <see cref="AtlasMediaOptions.MaxDuration"/>.</summary>
    TooLong,

    /// <summary>The input is corrupt or truncated.</summary>
    CorruptInput,

    /// <summary>A required external program is not installed.</summary>
    ToolMissing,

    /// <summary>A required model file is not installed.</summary>
    ModelMissing,

    /// <summary>An external program failed.</summary>
    ToolFailed,

    /// <summary>An external program exceeded <see cref="AtlasMediaOptions.ToolTimeout"/>.</summary>
    ToolTimeout,

    /// <summary>An external program exceeded <see cref="AtlasMediaOptions.ToolMemoryLimitBytes"/>.</summary>
    ToolMemoryLimit,

    /// <summary>The job queue is full and the submission was not allowed to wait.</summary>
    QueueFull,

    /// <summary>The caller may not read the requested file.</summary>
    AccessDenied,

    /// <summary>No vision-capable LLM client is configured for the describe task.</summary>
    LlmUnavailable,

    /// <summary>The LLM endpoint failed or returned an unusable answer.</summary>
    LlmFailed,

    /// <summary>The configured describe model cannot take images (a text-only model).</summary>
    ModelUnsupported,

    /// <summary>The job was cancelled.</summary>
    Cancelled,
}

/// <summary>Helpers for <see cref="MediaErrorCode"/>.</summary>
public static class MediaErrors
{
    /// <summary>The stable snake_case wire name of a code, for example <c>too_many_pixels</c>.</summary>
    /// <param name="code">The code.</param>
    /// <returns>The wire name.</returns>
    public static string ToWire(this MediaErrorCode code) => code switch
    {
        MediaErrorCode.InvalidRequest => "invalid_request",
        MediaErrorCode.UnsupportedFormat => "unsupported_format",
        MediaErrorCode.UnsafeInput => "unsafe_input",
        MediaErrorCode.TooLarge => "too_large",
        MediaErrorCode.TooManyPixels => "too_many_pixels",
        MediaErrorCode.TooLong => "too_long",
        MediaErrorCode.CorruptInput => "corrupt_input",
        MediaErrorCode.ToolMissing => "tool_missing",
        MediaErrorCode.ModelMissing => "model_missing",
        MediaErrorCode.ToolFailed => "tool_failed",
        MediaErrorCode.ToolTimeout => "tool_timeout",
        MediaErrorCode.ToolMemoryLimit => "tool_memory_limit",
        MediaErrorCode.QueueFull => "queue_full",
        MediaErrorCode.AccessDenied => "access_denied",
        MediaErrorCode.LlmUnavailable => "llm_unavailable",
        MediaErrorCode.LlmFailed => "llm_failed",
        MediaErrorCode.ModelUnsupported => "model_unsupported",
        MediaErrorCode.Cancelled => "cancelled",
        _ => "error",
    };

    /// <summary>
    /// True for answers about the input or the caller (bad request, unsupported or unsafe bytes, a limit, no access, a
    /// full queue, cancellation): expected outcomes, logged at information level. False for tools, models and the LLM failing.
    /// </summary>
    /// <param name="code">The code.</param>
    /// <returns>Whether the code refuses the input rather than reporting a failure.</returns>
    public static bool IsInputRefusal(this MediaErrorCode code) => code is MediaErrorCode.InvalidRequest or MediaErrorCode.UnsupportedFormat
        or MediaErrorCode.UnsafeInput or MediaErrorCode.TooLarge or MediaErrorCode.TooManyPixels or MediaErrorCode.TooLong
        or MediaErrorCode.CorruptInput or MediaErrorCode.QueueFull or MediaErrorCode.AccessDenied or MediaErrorCode.Cancelled;
}

/// <summary>
/// An expected failure of a media job: bad input, a missing tool or model, a limit that was hit. The message says
/// what was wrong and how to fix it; <see cref="Code"/> is stable and machine-readable.
/// </summary>
public sealed class MediaException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The stable error code.</param>
    /// <param name="message">What was wrong, where, and how to fix it.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public MediaException(MediaErrorCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The stable error code.</summary>
    public MediaErrorCode Code { get; }
}
