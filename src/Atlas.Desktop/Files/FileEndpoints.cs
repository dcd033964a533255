using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Realtime;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Shared.IO;

namespace Atlas.Desktop.Files;

/// <summary>REST file API on the device's own namespace; the device comes from the session.</summary>
internal static class FileEndpoints
{
    public const string UploadRateLimitPolicy = "uploads";

    public static void MapFiles(this IEndpointRouteBuilder app)
    {
        var files = app.MapGroup("/files").RequireAuthorization().WithAtlasErrors();

        files.MapGet("/list", (HttpContext context, DeviceFileSystem fs, string? path) =>
                Results.Json(new FileListing(DevicePath.Normalize(path), fs.List(context.Session().Device.Id, path)),
                    DesktopJsonContext.Default.FileListing))
            .RequirePermission(Permissions.FilesRead);

        files.MapGet("/stat", (HttpContext context, DeviceFileSystem fs, string? path) =>
                Results.Json(fs.Stat(context.Session().Device.Id, path), AtlasJsonContext.Default.FileEntry))
            .RequirePermission(Permissions.FilesRead);

        files.MapGet("/read", IResult (HttpContext context, DeviceFileSystem fs, string? path) =>
            {
                var (stream, relative) = fs.OpenRead(context.Session().Device.Id, path);
                var modified = File.GetLastWriteTimeUtc(stream.Name);
                return new RangeErrorResult(Results.File(stream, "application/octet-stream", Path.GetFileName(relative),
                    new DateTimeOffset(modified, TimeSpan.Zero), EntityTagHeaderValue.Parse(FileCondition.ETagOf(stream.Length, modified)),
                    enableRangeProcessing: true));
            })
            .RequirePermission(Permissions.FilesRead);

        files.MapPost("/write", (HttpContext context, DeviceFileSystem fs, IdempotencyCache ids, string? path, bool? overwrite) =>
                FileRequestIds.RunOnceAsync(context, ids, StatusCodes.Status200OK, async () =>
                {
                    LimitBody(context, fs.Options.MaxFileBytes);
                    var device = context.Session().Device;
                    var entry = await fs.WriteAsync(device.Id, device.QuotaBytes, path, context.Request.Body, overwrite ?? false,
                        FileCondition.From(context.Request), context.RequestAborted).ConfigureAwait(false);
                    return Json(entry);
                }))
            .RequirePermission(Permissions.FilesWrite)
            .RequireRateLimiting(UploadRateLimitPolicy);

        files.MapPost("/mkdir", (HttpContext context, DeviceFileSystem fs, IdempotencyCache ids, string? path) =>
                FileRequestIds.RunOnceAsync(context, ids, StatusCodes.Status200OK, async () =>
                    Json(await fs.MkdirAsync(context.Session().Device.Id, path, context.RequestAborted).ConfigureAwait(false))))
            .RequirePermission(Permissions.FilesWrite);

        files.MapPost("/move", (HttpContext context, DeviceFileSystem fs, IdempotencyCache ids, string? path, string? to, bool? overwrite) =>
                FileRequestIds.RunOnceAsync(context, ids, StatusCodes.Status200OK, async () =>
                    Json(await fs.MoveAsync(context.Session().Device.Id, path, to, overwrite ?? false, FileCondition.From(context.Request),
                        context.RequestAborted).ConfigureAwait(false))))
            .RequirePermission(Permissions.FilesWrite);

        files.MapPost("/delete", (HttpContext context, DeviceFileSystem fs, IdempotencyCache ids, string? path, bool? recursive) =>
                FileRequestIds.RunOnceAsync(context, ids, StatusCodes.Status200OK, async () =>
                {
                    await fs.DeleteAsync(context.Session().Device.Id, path, recursive ?? false, FileCondition.From(context.Request),
                        context.RequestAborted).ConfigureAwait(false);
                    return JsonSerializer.SerializeToElement(new FileDeleted(DevicePath.Normalize(path), true), DesktopJsonContext.Default.FileDeleted);
                }))
            .RequirePermission(Permissions.FilesWrite);

        files.MapPost("/upload", UploadMultipartAsync)
            .RequirePermission(Permissions.FilesWrite)
            .RequireRateLimiting(UploadRateLimitPolicy)
            .DisableAntiforgery();

        var sessions = files.MapGroup("/upload/sessions").RequirePermission(Permissions.FilesWrite).RequireRateLimiting(UploadRateLimitPolicy);
        sessions.MapPost("", CreateUploadAsync);
        sessions.MapGet("", ListUploadsAsync);
        sessions.MapGet("/{id}", GetUploadAsync);
        sessions.MapPut("/{id}", AppendUploadAsync);
        sessions.MapDelete("/{id}", CancelUploadAsync);
    }

    private static JsonElement Json(FileEntry entry) => JsonSerializer.SerializeToElement(entry, AtlasJsonContext.Default.FileEntry);

    /// <summary><c>multipart/form-data</c> with a <c>path</c> field (the target file) followed by one file part.</summary>
    private static Task<IResult> UploadMultipartAsync(HttpContext context, DeviceFileSystem fs, IdempotencyCache ids, bool? overwrite) =>
        FileRequestIds.RunOnceAsync(context, ids, StatusCodes.Status200OK, () => ReadMultipartAsync(context, fs, overwrite));

    private static async Task<JsonElement> ReadMultipartAsync(HttpContext context, DeviceFileSystem fs, bool? overwrite)
    {
        LimitBody(context, fs.Options.MaxFileBytes + (64 * 1024));
        var device = context.Session().Device;
        var boundary = HeaderUtilities.RemoveQuotes(
            MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type) ? type.Boundary : default).Value;
        if (string.IsNullOrEmpty(boundary) || type?.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase) != true)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "Send multipart/form-data with a 'path' field and one file part.");
        }

        var reader = new Microsoft.AspNetCore.WebUtilities.MultipartReader(boundary, context.Request.Body)
        {
            HeadersLengthLimit = 16 * 1024,
            HeadersCountLimit = 16,
        };
        string? path = null;
        for (var section = await reader.ReadNextSectionAsync(context.RequestAborted).ConfigureAwait(false);
             section is not null;
             section = await reader.ReadNextSectionAsync(context.RequestAborted).ConfigureAwait(false))
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
            {
                throw new AtlasException(ErrorCodes.BadRequest, "A multipart section has no Content-Disposition.");
            }

            if (!disposition.FileName.HasValue && !disposition.FileNameStar.HasValue)
            {
                if (disposition.Name.Value == "path")
                {
                    if (path is not null)
                    {
                        throw new AtlasException(ErrorCodes.BadRequest, "Send one 'path' field; this upload has two.");
                    }

                    using var text = new StreamReader(section.Body);
                    var buffer = new char[DevicePath.MaxPathChars + 1];
                    var read = await text.ReadBlockAsync(buffer, context.RequestAborted).ConfigureAwait(false);
                    if (read > DevicePath.MaxPathChars)
                    {
                        throw new AtlasException(ErrorCodes.InvalidPath, $"The path field is longer than {DevicePath.MaxPathChars} characters.");
                    }

                    path = new string(buffer, 0, read);
                }

                continue;
            }

            if (path is null)
            {
                throw new AtlasException(ErrorCodes.BadRequest,
                    "Put the 'path' field before the file part (the client's file name is never used as a path).");
            }

            // The write reads the part to its end, then this checks that nothing follows before anything is committed.
            var body = new LastSectionStream(section.Body, async cancellationToken =>
            {
                if (await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false) is not null)
                {
                    throw new AtlasException(ErrorCodes.BadRequest, "Send one 'path' field and one file part, nothing after it.");
                }
            });
            var entry = await fs.WriteAsync(device.Id, device.QuotaBytes, path, body, overwrite ?? false, FileCondition.From(context.Request),
                context.RequestAborted).ConfigureAwait(false);
            return Json(entry);
        }

        throw new AtlasException(ErrorCodes.BadRequest, "The multipart body has no file part.");
    }

    private static Task<IResult> CreateUploadAsync(HttpContext context, UploadService uploads, IdempotencyCache ids) =>
        FileRequestIds.RunOnceAsync(context, ids, StatusCodes.Status201Created, async () =>
        {
            var request = await JsonBodies.ReadAsync(context.Request, DesktopJsonContext.Default.UploadCreateRequest, context.RequestAborted)
                .ConfigureAwait(false) ?? throw new AtlasException(ErrorCodes.BadRequest, "Send {\"path\":…,\"size\":…}.");
            var status = await uploads.CreateAsync(context.Session().Device, request, FileCondition.From(context.Request), context.RequestAborted)
                .ConfigureAwait(false);
            return JsonSerializer.SerializeToElement(status, DesktopJsonContext.Default.UploadStatus);
        });

    private static async Task<IResult> ListUploadsAsync(HttpContext context, UploadService uploads) =>
        Results.Json(await uploads.ListAsync(context.Session().Device, context.RequestAborted).ConfigureAwait(false),
            DesktopJsonContext.Default.UploadSessionList);

    private static async Task<IResult> GetUploadAsync(HttpContext context, UploadService uploads, string id) =>
        Results.Json(await uploads.GetAsync(context.Session().Device, id, context.RequestAborted).ConfigureAwait(false),
            DesktopJsonContext.Default.UploadStatus);

    private static Task<IResult> AppendUploadAsync(HttpContext context, UploadService uploads, DeviceFileSystem fs, IdempotencyCache ids, string id) =>
        FileRequestIds.RunOnceAsync(context, ids, StatusCodes.Status200OK, () => AppendChunkAsync(context, uploads, fs, id));

    private static async Task<JsonElement> AppendChunkAsync(HttpContext context, UploadService uploads, DeviceFileSystem fs, string id)
    {
        LimitBody(context, fs.Options.MaxFileBytes);
        var range = context.Request.Headers.ContentRange.ToString();
        if (!ContentRangeHeaderValue.TryParse(range, out var contentRange) || contentRange.From is null || contentRange.To is null
            || contentRange.Length is null || !string.Equals(contentRange.Unit.Value, "bytes", StringComparison.Ordinal))
        {
            throw new AtlasException(ErrorCodes.BadRequest, "Send each chunk with 'Content-Range: bytes <first>-<last>/<total>'.");
        }

        var status = await uploads.AppendAsync(context.Session().Device, id, contentRange.From.Value, contentRange.To.Value,
            contentRange.Length.Value, context.Request.Body, FileCondition.From(context.Request), context.RequestAborted).ConfigureAwait(false);
        return JsonSerializer.SerializeToElement(status, DesktopJsonContext.Default.UploadStatus);
    }

    private static async Task<IResult> CancelUploadAsync(HttpContext context, UploadService uploads, string id)
    {
        await uploads.CancelAsync(context.Session().Device, id, context.RequestAborted).ConfigureAwait(false);
        return Results.NoContent();
    }

    private static void LimitBody(HttpContext context, long max)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = max;
        }
    }

    /// <summary>A file answer whose 416 (a range past the end) gets the usual JSON error body; Kestrel's file result sends
    /// it empty, with only <c>Content-Range: bytes */size</c>.</summary>
    private sealed class RangeErrorResult(IResult file) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            await file.ExecuteAsync(httpContext).ConfigureAwait(false);
            if (httpContext.Response.StatusCode == StatusCodes.Status416RangeNotSatisfiable && !httpContext.Response.HasStarted)
            {
                httpContext.Response.ContentLength = null;
                await ApiErrors.WriteAsync(httpContext, ErrorCodes.RangeNotSatisfiable,
                    $"The range '{httpContext.Request.Headers.Range}' is outside the file; its size is in Content-Range.").ConfigureAwait(false);
            }
        }
    }

    /// <summary>A multipart file part's body that, once read to its end, runs <paramref name="atEnd"/> (which may refuse
    /// what follows) before reporting the end.</summary>
    private sealed class LastSectionStream(Stream inner, Func<CancellationToken, Task> atEnd) : ForwardReadStream
    {
        private bool _ended;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0 && buffer.Length > 0 && !_ended)
            {
                _ended = true;
                await atEnd(cancellationToken).ConfigureAwait(false);
            }

            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) =>
            throw new NotSupportedException("Read asynchronously.");
    }
}
