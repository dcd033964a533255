using System.ComponentModel;
using System.Reflection;
using System.Text.Json;
using Atlas.Media.Diagnostics;
using Atlas.Media.Video;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace Atlas.Media.Mcp;

/// <summary>
/// The media pipeline's tasks as MCP tools over files the caller may read (<see cref="AtlasMediaOptions.AllowedRoots"/>).
/// Host them with <see cref="CreateServerTools"/> in any MCP server: in-process over stream transports today, and
/// over the Mmcp local socket with a manifest once Mmcp.Server hosts it (the seam is this class and that method).
/// Results are JSON (camelCase) except <c>context</c>, which returns the plain-text context card.
/// </summary>
[McpServerToolType]
public sealed class MediaMcpTools
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

    /// <summary>The tools as SDK primitives, for <c>McpServerOptions.ToolCollection</c> or <c>WithTools(...)</c>.</summary>
    /// <param name="tools">The tools instance.</param>
    /// <returns>One <see cref="McpServerTool"/> per task.</returns>
    public static IReadOnlyList<McpServerTool> CreateServerTools(MediaMcpTools tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var serializer = new JsonSerializerOptions(McpJsonUtilities.DefaultOptions);
        return typeof(MediaMcpTools).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.GetCustomAttribute<McpServerToolAttribute>() is not null)
            .Select(m => McpServerTool.Create(m, tools, new McpServerToolCreateOptions { SerializerOptions = serializer }))
            .ToList();
    }

    /// <summary>OCR tool.</summary>
    /// <param name="path">Image file.</param>
    /// <param name="language">Tesseract languages.</param>
    /// <param name="engine">Engine name.</param>
    /// <param name="progress">Progress notifications.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>JSON with text, confidences and boxes.</returns>
    [McpServerTool(Name = "ocr", Title = "Read text in an image", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Reads the text in an image file (document, screenshot, photo of a sign). Returns JSON: text, meanConfidence (0-1), lines and words with pixel boxes.")]
    public async Task<string> OcrAsync(
        [Description("Absolute path of the image file (JPEG, PNG, WebP, HEIC, …).")] string path,
        [Description("Tesseract language codes joined by '+', e.g. 'eng' or 'eng+deu'.")] string language = "eng",
        [Description("'auto', 'tesseract' (documents) or 'ppocr' (scene text).")] string engine = "auto",
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(new MediaRequest { Task = MediaTask.Ocr, FilePath = Authorize(path), Ocr = new() { Language = language, Engine = engine } }, progress, cancellationToken).ConfigureAwait(false);
        return Json(result);
    }

    /// <summary>Analyze tool.</summary>
    /// <param name="path">Image or recording.</param>
    /// <param name="progress">Progress notifications.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>JSON facts.</returns>
    [McpServerTool(Name = "analyze", Title = "Describe an image's or recording's properties", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Facts about an image (size, EXIF camera/time/GPS, brightness, blur, dominant colours, QR codes and barcodes, faces) or an audio/video file (duration, streams, codecs). Returns JSON.")]
    public async Task<string> AnalyzeAsync(
        [Description("Absolute path of the image, audio or video file.")] string path,
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default) =>
        Json(await RunAsync(MediaRequest.ForFile(MediaTask.Analyze, Authorize(path)), progress, cancellationToken).ConfigureAwait(false));

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
    public async Task<string> FramesAsync(
        [Description("Absolute path of the video file.")] string path,
        [Description("'scenes' (each cut), 'interval' or 'keyframes'.")] string mode = "scenes",
        [Description("Seconds between frames in 'interval' mode.")] double intervalSeconds = 5,
        [Description("Most frames to return (1-500).")] int maxFrames = 30,
        [Description("Read the text on each frame.")] bool ocr = false,
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var selection = mode.ToLowerInvariant() switch
        {
            "scenes" => FrameSelection.Scenes,
            "interval" => FrameSelection.Interval,
            "keyframes" => FrameSelection.KeyFrames,
            _ => throw new McpException($"Unknown mode '{mode}': use 'scenes', 'interval' or 'keyframes'."),
        };
        var result = await RunAsync(
            new MediaRequest { Task = MediaTask.Frames, FilePath = Authorize(path), Frames = new() { Mode = selection, IntervalSeconds = intervalSeconds, MaxFrames = maxFrames, Ocr = ocr } },
            progress, cancellationToken).ConfigureAwait(false);
        var frames = result.Frames!.Frames
            .Select(f => new FrameToolItem(f.Seconds, result.GetArtifactPath(f.FileName), f.Width, f.Height, f.Ocr?.Text))
            .ToList();
        return JsonSerializer.Serialize(new FramesToolResult(result.Recording?.DurationSeconds ?? 0, frames), McpToolsJsonContext.Default.FramesToolResult);
    }

    /// <summary>Transcribe tool.</summary>
    /// <param name="path">Audio or video.</param>
    /// <param name="progress">Progress notifications.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>JSON transcript.</returns>
    [McpServerTool(Name = "transcribe", Title = "Transcribe speech", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Transcribes English speech in an audio file or a video's audio track, with segment and word timestamps. Returns JSON.")]
    public async Task<string> TranscribeAsync(
        [Description("Absolute path of the audio or video file.")] string path,
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default) =>
        Json(await RunAsync(MediaRequest.ForFile(MediaTask.Transcribe, Authorize(path)), progress, cancellationToken).ConfigureAwait(false));

    /// <summary>Describe tool.</summary>
    /// <param name="path">Image or video.</param>
    /// <param name="prompt">Instruction.</param>
    /// <param name="progress">Progress notifications.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>The description.</returns>
    [McpServerTool(Name = "describe", Title = "Describe a picture with a vision model", ReadOnly = true, Idempotent = true, OpenWorld = true)]
    [Description("Sends an image (or a video's scene frames) to the configured vision model and returns its description as text.")]
    public async Task<string> DescribeAsync(
        [Description("Absolute path of the image or video file.")] string path,
        [Description("What to ask about the picture; omit for a general description.")] string? prompt = null,
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(new MediaRequest { Task = MediaTask.Describe, FilePath = Authorize(path), Describe = new() { Prompt = prompt } }, progress, cancellationToken).ConfigureAwait(false);
        return result.Description!.Text;
    }

    /// <summary>Context tool.</summary>
    /// <param name="path">Any media.</param>
    /// <param name="progress">Progress notifications.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>The context card.</returns>
    [McpServerTool(Name = "context", Title = "Summarise a media file for an LLM", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Everything the pipeline can tell about a media file in one compact text card: facts, text in the image or on screen, and the transcript.")]
    public async Task<string> ContextAsync(
        [Description("Absolute path of the image, audio or video file.")] string path,
        IProgress<ProgressNotificationValue>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(new MediaRequest { Task = MediaTask.Context, FilePath = Authorize(path), FileName = Path.GetFileName(path) }, progress, cancellationToken).ConfigureAwait(false);
        return result.Context!.Text;
    }

    private string Authorize(string path)
    {
        try
        {
            return _access.Authorize(path);
        }
        catch (MediaException ex)
        {
            Log.AccessRefused(_logger, path, ex.Message);
            throw new McpException($"{ex.Code.ToWire()}: {ex.Message}", ex);
        }
    }

    private async Task<MediaResult> RunAsync(MediaRequest request, IProgress<ProgressNotificationValue>? progress, CancellationToken cancellationToken)
    {
        var relay = progress is null ? null : new ProgressRelay(progress);
        try
        {
            return await _pipeline.ProcessAsync(request, relay, cancellationToken).ConfigureAwait(false);
        }
        catch (MediaException ex)
        {
            throw new McpException($"{ex.Code.ToWire()}: {ex.Message}", ex);
        }
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
