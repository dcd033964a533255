using System.ComponentModel;
using System.Text.Json;
using Atlas.Media.Diagnostics;
using Atlas.Media.Ocr;
using Atlas.Media.Video;
using Microsoft.Extensions.Logging;
using Mmcp.Server;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Atlas.Media.Mcp;

/// <summary>
/// The media pipeline's tasks as MCP tools over files the caller may read (<see cref="AtlasMediaOptions.AllowedRoots"/>),
/// built by the Mmcp source generator (no reflection): <c>AddMmcpServer&lt;MediaMcpTools&gt;()</c> serves them over the Mmcp
/// local socket with a manifest (<c>atlas media-mcp</c>), and <see cref="CreateServerTools"/> gives them to any MCP server
/// whose services hold a <see cref="MediaMcpTools"/> (in-process over stream transports).
/// Results are JSON (camelCase) except <c>context</c>, which returns the plain-text context card. Errors are tool
/// results with <c>isError</c> and the text <c>code: message</c>, naming the path as the caller gave it; they are expected
/// answers, logged in one line at information level (a thrown exception would be logged with its stack trace).
/// </summary>
[McpServer(
    "io.mmcp.atlas.media",
    "Atlas media",
    "Reads text in images (OCR), analyses photos (EXIF, colours, QR codes, faces), extracts video frames, transcribes speech and builds context cards, for files of this user.",
    "0.1.0",
    Categories = ["media"],
    Permissions = ["files.read"])]
public sealed partial class MediaMcpTools
{
    private readonly MediaPipeline _pipeline;
    private readonly FileAccessPolicy _access;
    private readonly ILogger _logger;

    /// <summary>Creates the tools.</summary>
    /// <param name="pipeline">The pipeline that runs the tasks.</param>
    /// <param name="options">Options; <see cref="AtlasMediaOptions.AllowedRoots"/> decides which files may be read.</param>
    /// <param name="logger">Logs refused paths.</param>
    public MediaMcpTools(MediaPipeline pipeline, AtlasMediaOptions options, ILogger<MediaMcpTools> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _pipeline = pipeline;
        _access = new FileAccessPolicy(options.AllowedRoots);
        _logger = logger;
    }

    /// <summary>The tools as SDK primitives (generated), for <c>McpServerOptions.ToolCollection</c> or <c>WithTools(...)</c>;
    /// they run on the <see cref="MediaMcpTools"/> in the server's services.</summary>
    /// <returns>One <see cref="McpServerTool"/> per task.</returns>
    public static IReadOnlyList<McpServerTool> CreateServerTools() => MmcpServerDefinition.Of<MediaMcpTools>().CreateTools();

    /// <summary>OCR tool.</summary>
    /// <param name="path">Image file.</param>
    /// <param name="language">Tesseract languages.</param>
    /// <param name="engine">Engine name.</param>
    /// <param name="layout">Page layout mode.</param>
    /// <param name="progress">Progress notifications.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>JSON with text, confidences and boxes.</returns>
    [McpServerTool(Name = "ocr", Title = "Read text in an image", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Reads the text in an image file (document, screenshot, photo of a sign). Returns JSON: text, meanConfidence (0-1), lines and words with pixel boxes.")]
    public Task<CallToolResult> OcrAsync(
        [Description("Absolute path of the image file (JPEG, PNG, WebP, HEIC, …).")] string path,
        [Description("Tesseract language codes joined by '+', e.g. 'eng' or 'eng+deu'.")] string language = "eng",
        [Description("'auto', 'tesseract' (documents) or 'ppocr' (scene text).")] string engine = "auto",
        [Description("Page layout: 'auto' (find blocks and columns), 'block' (one uniform block of text), 'sparse' (scattered text such as a screenshot), 'column' (one column of lines) or 'line' (a single line).")] string layout = "auto",
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (!TryParseLayout(layout, out var pageLayout))
        {
            return Task.FromResult(Error("ocr", MediaErrorCode.InvalidRequest, $"Unknown layout '{layout}': use 'auto', 'block', 'sparse', 'column' or 'line'."));
        }

        return CallAsync("ocr", path, real => new MediaRequest { Task = MediaTask.Ocr, FilePath = real, Ocr = new() { Language = language, Engine = engine, Layout = pageLayout } }, Json, progress, cancellationToken);
    }

    /// <summary>Analyze tool.</summary>
    /// <param name="path">Image or recording.</param>
    /// <param name="progress">Progress notifications.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>JSON facts.</returns>
    [McpServerTool(Name = "analyze", Title = "Describe an image's or recording's properties", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Facts about an image (size, EXIF camera/time/GPS, brightness, blur, dominant colours, QR codes and barcodes, faces) or an audio/video file (duration, streams, codecs). Returns JSON.")]
    public Task<CallToolResult> AnalyzeAsync(
        [Description("Absolute path of the image, audio or video file.")] string path,
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default) =>
        CallAsync("analyze", path, real => MediaRequest.ForFile(MediaTask.Analyze, real), Json, progress, cancellationToken);

    /// <summary>Frames tool.</summary>
    /// <param name="path">Video.</param>
    /// <param name="mode">Selection mode.</param>
    /// <param name="intervalSeconds">Interval.</param>
    /// <param name="maxFrames">Most frames.</param>
    /// <param name="ocr">OCR each frame.</param>
    /// <param name="progress">Progress notifications.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>JSON with frame times, file paths and text.</returns>
    [McpServerTool(Name = "frames", Title = "Take frames from a video", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Extracts scene-change, interval or key frames from a video as JPEG files, optionally reading the text on each. Returns JSON with each frame's time, file path and text.")]
    public Task<CallToolResult> FramesAsync(
        [Description("Absolute path of the video file.")] string path,
        [Description("'scenes' (each cut), 'interval' or 'keyframes'.")] string mode = "scenes",
        [Description("Seconds between frames in 'interval' mode.")] double intervalSeconds = 5,
        [Description("Most frames to return (1-500).")] int maxFrames = 30,
        [Description("Read the text on each frame.")] bool ocr = false,
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default)
    {
        FrameSelection? selection = mode?.ToLowerInvariant() switch
        {
            "scenes" => FrameSelection.Scenes,
            "interval" => FrameSelection.Interval,
            "keyframes" => FrameSelection.KeyFrames,
            _ => null,
        };
        if (selection is not { } chosen)
        {
            return Task.FromResult(Error("frames", MediaErrorCode.InvalidRequest, $"Unknown mode '{mode}': use 'scenes', 'interval' or 'keyframes'."));
        }

        return CallAsync(
            "frames",
            path,
            real => new MediaRequest { Task = MediaTask.Frames, FilePath = real, Frames = new() { Mode = chosen, IntervalSeconds = intervalSeconds, MaxFrames = maxFrames, Ocr = ocr } },
            result =>
            {
                var frames = result.Frames!.Frames
                    .Select(f => new FrameToolItem(f.Seconds, result.GetArtifactPath(f.FileName), f.Width, f.Height, f.Ocr?.Text))
                    .ToList();
                return JsonSerializer.Serialize(new FramesToolResult(result.Recording?.DurationSeconds ?? 0, frames), McpToolsJsonContext.Default.FramesToolResult);
            },
            progress,
            cancellationToken);
    }

    /// <summary>Transcribe tool.</summary>
    /// <param name="path">Audio or video.</param>
    /// <param name="progress">Progress notifications.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>JSON transcript.</returns>
    [McpServerTool(Name = "transcribe", Title = "Transcribe speech", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Transcribes English speech in an audio file or a video's audio track, with segment and word timestamps. Returns JSON.")]
    public Task<CallToolResult> TranscribeAsync(
        [Description("Absolute path of the audio or video file.")] string path,
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default) =>
        CallAsync("transcribe", path, real => MediaRequest.ForFile(MediaTask.Transcribe, real), Json, progress, cancellationToken);

    /// <summary>Describe tool.</summary>
    /// <param name="path">Image or video.</param>
    /// <param name="prompt">Instruction.</param>
    /// <param name="progress">Progress notifications.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>The description.</returns>
    [McpServerTool(Name = "describe", Title = "Describe a picture with a vision model", ReadOnly = true, Idempotent = true, OpenWorld = true)]
    [Description("Sends an image (or a video's scene frames) to the configured vision model and returns its description as text.")]
    public Task<CallToolResult> DescribeAsync(
        [Description("Absolute path of the image or video file.")] string path,
        [Description("What to ask about the picture; omit for a general description.")] string? prompt = null,
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default)
    {
        return CallAsync("describe", path, real => new MediaRequest { Task = MediaTask.Describe, FilePath = real, Describe = new() { Prompt = prompt } }, result => result.Description!.Text, progress, cancellationToken);
    }

    /// <summary>Context tool.</summary>
    /// <param name="path">Any media.</param>
    /// <param name="progress">Progress notifications.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>The context card.</returns>
    [McpServerTool(Name = "context", Title = "Summarise a media file for an LLM", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Everything the pipeline can tell about a media file in one compact text card: facts, text in the image or on screen, and the transcript.")]
    public Task<CallToolResult> ContextAsync(
        [Description("Absolute path of the image, audio or video file.")] string path,
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default)
    {
        return CallAsync("context", path, real => new MediaRequest { Task = MediaTask.Context, FilePath = real, FileName = Path.GetFileName(path) }, result => result.Context!.Text, progress, cancellationToken);
    }

    private async Task<CallToolResult> CallAsync(
        string tool, string path, Func<string, MediaRequest> build, Func<MediaResult, string> answer, IProgress<ProgressNotificationValue>? progress, CancellationToken cancellationToken)
    {
        string real;
        try
        {
            real = _access.Authorize(path);
        }
        catch (MediaException ex)
        {
            Log.AccessRefused(_logger, path, ex.Message);
            return ErrorResult(ex.Code, ex.Message);
        }

        var relay = progress is null ? null : new ProgressRelay(progress);
        try
        {
            var result = await _pipeline.ProcessAsync(build(real), relay, cancellationToken).ConfigureAwait(false);
            return new CallToolResult { Content = [new TextContentBlock { Text = answer(result) }] };
        }
        catch (MediaException ex)
        {
            // The pipeline names the resolved file; the caller asked for the path it gave.
            var message = real == path ? ex.Message : ex.Message.Replace(real, path, StringComparison.Ordinal);
            return Error(tool, ex.Code, message);
        }
    }

    private CallToolResult Error(string tool, MediaErrorCode code, string message)
    {
        Log.ToolRefused(_logger, tool, code.ToWire(), message);
        return ErrorResult(code, message);
    }

    private static CallToolResult ErrorResult(MediaErrorCode code, string message) =>
        new() { IsError = true, Content = [new TextContentBlock { Text = $"{code.ToWire()}: {message}" }] };

    private static bool TryParseLayout(string? layout, out OcrLayout value)
    {
        value = OcrLayout.Auto;
        return layout is not null && !int.TryParse(layout, out _) && Enum.TryParse(layout, ignoreCase: true, out value) && Enum.IsDefined(value);
    }

    private static string Json(MediaResult result) => JsonSerializer.Serialize(result, MediaJsonContext.Default.MediaResult);

    private sealed class ProgressRelay(IProgress<ProgressNotificationValue> target) : IProgress<MediaProgress>
    {
        public void Report(MediaProgress value) =>
            target.Report(new ProgressNotificationValue { Progress = (float)Math.Round((value.Fraction ?? 0) * 100, 1), Total = 100, Message = value.Message ?? value.Stage });
    }
}

/// <summary>The <c>frames</c> tool's answer.</summary>
/// <param name="DurationSeconds">The video's duration.</param>
/// <param name="Frames">The frames.</param>
internal sealed record FramesToolResult(double DurationSeconds, IReadOnlyList<FrameToolItem> Frames);

/// <summary>One frame in the <c>frames</c> tool's answer.</summary>
internal sealed record FrameToolItem(double Seconds, string? Path, int Width, int Height, string? Text);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(FramesToolResult))]
internal sealed partial class McpToolsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
