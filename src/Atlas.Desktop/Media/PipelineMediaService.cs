using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Files;
using Atlas.Desktop.Status;
using Atlas.Desktop.Storage;
using Atlas.Media;
using PipelineRequest = Atlas.Media.MediaRequest;

namespace Atlas.Desktop.Media;

/// <summary>JSON metadata for the media frames' envelopes.</summary>
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class MediaWireContext : JsonSerializerContext;

/// <summary>
/// Runs <c>media_process</c> requests on the media pipeline: the input is a file in the device's own space (uploaded
/// with <c>/files/upload</c>) or small inline base64 content; progress becomes <c>media_result</c> frames and the
/// <c>jobs</c> section of <c>status_update</c>; the answer is the typed result. Frames: progress
/// <c>{"done":false,"progress":{jobId,status,stage,fraction,message}}</c>, then <c>{"done":true,"jobId":…,"result":{…}}</c>.
/// </summary>
/// <remarks>
/// A job belongs to the desktop, not to the connection: when the device goes away the job still finishes and its
/// result is cached by content hash, so asking again after reconnecting answers at once.
/// </remarks>
internal sealed class PipelineMediaService : IMediaService
{
    /// <summary>The largest inline (base64) input: it must fit a 1 MiB frame or request body once encoded. Larger media goes through <c>/files/upload</c>.</summary>
    public const int MaxInlineBytes = 512 * 1024;

    private readonly MediaPipeline _pipeline;
    private readonly DeviceFileSystem _files;
    private readonly MediaJobTracker _tracker;
    private readonly StatusService _status;
    private readonly DeviceService _devices;

    public PipelineMediaService(MediaPipeline pipeline, DeviceFileSystem files, MediaJobTracker tracker, StatusService status, DeviceService devices)
    {
        _pipeline = pipeline;
        _files = files;
        _tracker = tracker;
        _status = status;
        _devices = devices;
    }

    /// <summary>The folder in a device's space where files a result produced (video frames) are copied for the device to read.</summary>
    public const string ArtifactsFolder = "atlas-media";

    public async Task<JsonElement> ProcessAsync(MediaRequest request, IProgress<JsonElement> progress, CancellationToken cancellationToken)
    {
        var input = Parse(request.Data);
        Stream content;
        string fileName;
        if (input.Path is { } path)
        {
            // Processing a file reads it: the same permission as files/read, checked before the path is even looked at,
            // so a device without it learns neither the content nor whether the file exists.
            RequireReadForPath(await _devices.GetAsync(request.DeviceId, cancellationToken).ConfigureAwait(false));
            (content, var relative) = _files.OpenRead(request.DeviceId, path);
            fileName = relative;
        }
        else
        {
            content = new MemoryStream(input.Content!, writable: false);
            fileName = input.FileName ?? "inline";
        }

        MediaJob job;
        var reports = new OrderedProgress<MediaProgress>(p =>
        {
            var frame = new JsonObject { ["done"] = false, ["progress"] = JsonSerializer.SerializeToNode(p, MediaJsonContext.Default.MediaProgress) };
            progress.Report(JsonSerializer.SerializeToElement(frame, MediaWireContext.Default.JsonObject));
            _ = _status.PublishAsync(request.DeviceId, CancellationToken.None);
        });
        await using (content.ConfigureAwait(false))
        {
            try
            {
                // Staging copies the input before SubmitAsync returns, so the stream can be closed right after.
                job = await _pipeline.SubmitAsync(input.Build(content, fileName) with { Requester = request.DeviceId }, reports, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (MediaException e)
            {
                throw Map(e);
            }
        }

        _tracker.Track(request.DeviceId, request.RequestId, job, fileName);
        await _status.PublishAsync(request.DeviceId, CancellationToken.None).ConfigureAwait(false);
        try
        {
            var result = await job.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            reports.Close(); // no progress frame after the answer
            var answer = new JsonObject
            {
                ["done"] = true,
                ["jobId"] = job.Id,
                ["fromCache"] = result.FromCache,
                ["result"] = JsonSerializer.SerializeToNode(result, MediaJsonContext.Default.MediaResult),
            };
            await CopyArtifactsAsync(request.DeviceId, result, answer, cancellationToken).ConfigureAwait(false);
            return JsonSerializer.SerializeToElement(answer, MediaWireContext.Default.JsonObject);
        }
        catch (MediaException e)
        {
            throw Map(e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Not this request's token: the job itself was cancelled on the desktop (admin UI).
            throw new AtlasException(ErrorCodes.Cancelled, $"Media job {job.Id} was cancelled on the desktop; send the request again to retry it.");
        }
        finally
        {
            if (job.Completion.IsCompleted)
            {
                _tracker.Forget(request.DeviceId, job);
                _ = _status.PublishAsync(request.DeviceId, CancellationToken.None);
            }
            else
            {
                // The device went away: the job goes on (its result will be cached) and leaves the list when it ends.
                _ = job.Completion.ContinueWith(_ =>
                {
                    _tracker.Forget(request.DeviceId, job);
                    return _status.PublishAsync(request.DeviceId, CancellationToken.None);
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    /// <summary>
    /// Copies the files a result produced (the frames of a video) into the device's own space, so the phone can read
    /// them with <c>files/read</c>; their paths go into the answer's <c>files</c>. A full quota does not fail the
    /// request: the answer carries <c>filesError</c> instead. A device without <c>files.write</c> gets nothing written:
    /// the files come inline in <c>inlineFiles</c> instead (see <see cref="InlineArtifactsAsync"/>).
    /// </summary>
    private async Task CopyArtifactsAsync(string deviceId, MediaResult result, JsonObject answer, CancellationToken cancellationToken)
    {
        if (result.Frames is not { Frames.Count: > 0 } frames || result.ArtifactsDirectory is null)
        {
            return;
        }

        var folder = $"{ArtifactsFolder}/{result.ContentHash[..16]}";
        var copied = new JsonArray();
        var device = await _devices.GetAsync(deviceId, cancellationToken).ConfigureAwait(false);
        if (!HasPermission(device, Permissions.FilesWrite))
        {
            answer["files"] = copied;
            await InlineArtifactsAsync(result, frames, answer, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await _files.MkdirAsync(deviceId, ArtifactsFolder, cancellationToken).ConfigureAwait(false);
            await _files.MkdirAsync(deviceId, folder, cancellationToken).ConfigureAwait(false);
            foreach (var frame in frames.Frames)
            {
                if (result.GetArtifactPath(frame.FileName) is not { } source || !File.Exists(source))
                {
                    continue;
                }

                var target = $"{folder}/{frame.FileName}";
                var stream = File.OpenRead(source);
                await using (stream.ConfigureAwait(false))
                {
                    await _files.WriteAsync(deviceId, device.QuotaBytes, target, stream, overwrite: true, cancellationToken).ConfigureAwait(false);
                }

                copied.Add(target);
            }
        }
        catch (AtlasException e)
        {
            answer["filesError"] = new JsonObject { ["code"] = e.Code, ["message"] = e.Message };
        }

        answer["files"] = copied;
    }

    /// <summary>
    /// Puts the files a result produced into the answer itself (<c>inlineFiles</c>: <c>name</c> = the frame's
    /// <c>fileName</c>, <c>content</c> = base64), in order, up to <see cref="MaxInlineBytes"/> in all so the answer fits
    /// one frame; the rest are left out and <c>filesError</c> (<c>forbidden</c>) says how many and how to get them.
    /// </summary>
    private static async Task InlineArtifactsAsync(MediaResult result, Atlas.Media.Video.FramesResult frames, JsonObject answer, CancellationToken cancellationToken)
    {
        var inline = new JsonArray();
        long budget = MaxInlineBytes;
        var left = 0;
        foreach (var frame in frames.Frames)
        {
            if (result.GetArtifactPath(frame.FileName) is not { } source || !File.Exists(source))
            {
                continue;
            }

            if (new FileInfo(source).Length > budget)
            {
                left++;
                continue;
            }

            var bytes = await File.ReadAllBytesAsync(source, cancellationToken).ConfigureAwait(false);
            budget -= bytes.Length;
            inline.Add(new JsonObject { ["name"] = frame.FileName, ["content"] = Convert.ToBase64String(bytes) });
        }

        answer["inlineFiles"] = inline;
        if (left > 0)
        {
            answer["filesError"] = new JsonObject
            {
                ["code"] = ErrorCodes.Forbidden,
                ["message"] = $"{left} of {frames.Frames.Count} frames did not fit into the answer ({MaxInlineBytes} bytes inline); ask for fewer "
                    + $"(frames.maxFrames), or grant this device the '{Permissions.FilesWrite}' permission to get every frame as a file under {ArtifactsFolder}/.",
            };
        }
    }

    /// <summary>Processing a file of the device's space reads it: the permission of <c>files/read</c>.</summary>
    internal static void RequireReadForPath(DeviceRecord device) =>
        RequirePermission(device, Permissions.FilesRead, "processing a file of its space reads it; send the bytes inline as content instead");

    private static bool HasPermission(DeviceRecord device, string permission) => device.Permissions.Contains(permission, StringComparer.Ordinal);

    /// <summary>Refuses like the direct route would (<c>forbidden</c>, same wording), saying why this request needs it.</summary>
    private static void RequirePermission(DeviceRecord device, string permission, string why)
    {
        if (!HasPermission(device, permission))
        {
            throw new AtlasException(ErrorCodes.Forbidden, $"This device does not have the '{permission}' permission ({why}); grant it on the desktop.");
        }
    }

    /// <summary>Maps the pipeline's stable codes onto the protocol's, keeping the pipeline's message (what, where, how to fix).</summary>
    internal static AtlasException Map(MediaException e) => new(e.Code switch
    {
        MediaErrorCode.InvalidRequest => ErrorCodes.BadRequest,
        MediaErrorCode.UnsupportedFormat => ErrorCodes.UnsupportedMedia,
        MediaErrorCode.UnsafeInput or MediaErrorCode.TooManyPixels or MediaErrorCode.TooLong or MediaErrorCode.CorruptInput => ErrorCodes.MediaRejected,
        MediaErrorCode.TooLarge => ErrorCodes.TooLarge,
        MediaErrorCode.ToolMissing or MediaErrorCode.ModelMissing or MediaErrorCode.LlmUnavailable => ErrorCodes.NotAvailable,
        MediaErrorCode.QueueFull => ErrorCodes.RateLimited,
        MediaErrorCode.AccessDenied => ErrorCodes.Forbidden,
        MediaErrorCode.Cancelled => ErrorCodes.Cancelled,
        MediaErrorCode.ModelUnsupported => ErrorCodes.ModelUnsupported,
        _ => ErrorCodes.ProcessingFailed,
    }, $"{e.Message} ({e.Code.ToWire()})", e);

    /// <summary>Reads the data of a media_process (the documented shape; the golden fixture media_process.data.json).</summary>
    internal static ParsedInput Parse(JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            throw Bad("media_process data must be an object such as {\"task\":\"ocr\",\"path\":\"photos/receipt.jpg\"}.");
        }

        var taskName = data.TryGetProperty("task", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : null;
        if (taskName is null || !Enum.TryParse<MediaTask>(taskName, ignoreCase: true, out var task) || !Enum.IsDefined(task) || int.TryParse(taskName, out _))
        {
            throw Bad($"task must be one of {string.Join(", ", Enum.GetNames<MediaTask>().Select(n => n.ToLowerInvariant()))}.");
        }

        var path = data.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        var inline = data.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        if ((path is null) == (inline is null))
        {
            throw Bad("Give exactly one of path (a file in this device's space, uploaded with /files/upload) or content (base64, up to 512 KiB).");
        }

        byte[]? bytes = null;
        if (inline is not null)
        {
            if (Base64.GetMaxDecodedFromUtf8Length(inline.Length) > MaxInlineBytes + 2)
            {
                throw new AtlasException(ErrorCodes.TooLarge, $"Inline content is limited to {MaxInlineBytes} bytes; upload larger media with /files/upload and pass its path.");
            }

            try
            {
                bytes = Convert.FromBase64String(inline);
            }
            catch (FormatException)
            {
                throw Bad("content is not valid base64.");
            }
        }

        var name = data.TryGetProperty("fileName", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        var bypass = data.TryGetProperty("bypassCache", out var b) && b.ValueKind == JsonValueKind.True;
        var ctx = MediaJsonContext.Default;
        return new ParsedInput(task, path, bytes, name, bypass,
            Options(data, "ocr", ctx.OcrOptions), Options(data, "frames", ctx.FramesOptions), Options(data, "transcribe", ctx.TranscribeOptions),
            Options(data, "describe", ctx.DescribeOptions), Options(data, "context", ctx.ContextOptions));
    }

    private static T? Options<T>(JsonElement data, string name, JsonTypeInfo<T> typeInfo)
        where T : class, new()
    {
        if (!data.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Bad($"{name} options must be an object.");
        }

        // Source-generated deserialization sets every init-only property, so an omitted one would become 0 instead of
        // its documented default: start from the defaults and overlay what the device sent.
        var merged = JsonSerializer.SerializeToNode(new T(), typeInfo)!.AsObject();
        foreach (var property in element.EnumerateObject())
        {
            var key = typeInfo.Properties.Select(p => p.Name).FirstOrDefault(k => string.Equals(k, property.Name, StringComparison.OrdinalIgnoreCase))
                ?? throw Bad($"{name} options have no field '{property.Name}'; known fields: {string.Join(", ", typeInfo.Properties.Select(p => p.Name))}.");
            merged[key] = JsonNode.Parse(property.Value.GetRawText());
        }

        try
        {
            return merged.Deserialize(typeInfo) ?? throw Bad($"{name} options must be an object.");
        }
        catch (JsonException e)
        {
            throw Bad($"{name} options are not valid: {e.Message}");
        }
    }

    private static AtlasException Bad(string message) => new(ErrorCodes.BadRequest, message);

    internal sealed record ParsedInput(
        MediaTask Task, string? Path, byte[]? Content, string? FileName, bool BypassCache,
        Atlas.Media.Ocr.OcrOptions? Ocr, Atlas.Media.Video.FramesOptions? Frames, Atlas.Media.Speech.TranscribeOptions? Transcribe,
        Atlas.Media.Description.DescribeOptions? Describe, Atlas.Media.Context.ContextOptions? Context)
    {
        public PipelineRequest Build(Stream content, string fileName)
        {
            var request = new PipelineRequest { Task = Task, Content = content, FileName = fileName, BypassCache = BypassCache };
            return request with
            {
                Ocr = Ocr ?? request.Ocr,
                Frames = Frames ?? request.Frames,
                Transcribe = Transcribe ?? request.Transcribe,
                Describe = Describe ?? request.Describe,
                Context = Context ?? request.Context,
            };
        }
    }
}
