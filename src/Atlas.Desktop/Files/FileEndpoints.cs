using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Realtime;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

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

        files.MapGet("/read", (HttpContext context, DeviceFileSystem fs, string? path) =>
            {
                var (stream, relative) = fs.OpenRead(context.Session().Device.Id, path);
                return Results.File(stream, "application/octet-stream", Path.GetFileName(relative), enableRangeProcessing: true);
            })
            .RequirePermission(Permissions.FilesRead);

        files.MapPost("/write", async (HttpContext context, DeviceFileSystem fs, string? path, bool? overwrite) =>
            {
                LimitBody(context, fs.Options.MaxFileBytes);
                var device = context.Session().Device;
                var entry = await fs.WriteAsync(device.Id, device.QuotaBytes, path, context.Request.Body, overwrite ?? false,
                    context.RequestAborted).ConfigureAwait(false);
                return Results.Json(entry, AtlasJsonContext.Default.FileEntry);
            })
            .RequirePermission(Permissions.FilesWrite)
            .RequireRateLimiting(UploadRateLimitPolicy);

        files.MapPost("/mkdir", async (HttpContext context, DeviceFileSystem fs, string? path) =>
                Results.Json(await fs.MkdirAsync(context.Session().Device.Id, path, context.RequestAborted).ConfigureAwait(false),
                    AtlasJsonContext.Default.FileEntry))
            .RequirePermission(Permissions.FilesWrite);

        files.MapPost("/move", async (HttpContext context, DeviceFileSystem fs, string? path, string? to, bool? overwrite) =>
                Results.Json(await fs.MoveAsync(context.Session().Device.Id, path, to, overwrite ?? false, context.RequestAborted)
                    .ConfigureAwait(false), AtlasJsonContext.Default.FileEntry))
            .RequirePermission(Permissions.FilesWrite);

        files.MapPost("/delete", async (HttpContext context, DeviceFileSystem fs, string? path, bool? recursive) =>
            {
                await fs.DeleteAsync(context.Session().Device.Id, path, recursive ?? false, context.RequestAborted).ConfigureAwait(false);
                return Results.Json(new FileDeleted(DevicePath.Normalize(path), true), DesktopJsonContext.Default.FileDeleted);
            })
            .RequirePermission(Permissions.FilesWrite);

        files.MapPost("/upload", UploadMultipartAsync)
            .RequirePermission(Permissions.FilesWrite)
            .RequireRateLimiting(UploadRateLimitPolicy)
            .DisableAntiforgery();

        var sessions = files.MapGroup("/upload/sessions").RequirePermission(Permissions.FilesWrite).RequireRateLimiting(UploadRateLimitPolicy);
        sessions.MapPost("", CreateUploadAsync);
        sessions.MapGet("/{id}", GetUploadAsync);
        sessions.MapPut("/{id}", AppendUploadAsync);
        sessions.MapDelete("/{id}", CancelUploadAsync);
    }

    /// <summary><c>multipart/form-data</c> with a <c>path</c> field (the target file) followed by one file part.</summary>
    private static async Task<IResult> UploadMultipartAsync(HttpContext context, DeviceFileSystem fs, bool? overwrite)
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

            var entry = await fs.WriteAsync(device.Id, device.QuotaBytes, path, section.Body, overwrite ?? false, context.RequestAborted)
                .ConfigureAwait(false);
            return Results.Json(entry, AtlasJsonContext.Default.FileEntry);
        }

        throw new AtlasException(ErrorCodes.BadRequest, "The multipart body has no file part.");
    }

    private static async Task<IResult> CreateUploadAsync(HttpContext context, UploadService uploads)
    {
        var request = await context.Request.ReadFromJsonAsync(DesktopJsonContext.Default.UploadCreateRequest, context.RequestAborted)
            .ConfigureAwait(false) ?? throw new AtlasException(ErrorCodes.BadRequest, "Send {\"path\":…,\"size\":…}.");
        var status = await uploads.CreateAsync(context.Session().Device, request, context.RequestAborted).ConfigureAwait(false);
        return Results.Json(status, DesktopJsonContext.Default.UploadStatus, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetUploadAsync(HttpContext context, UploadService uploads, string id) =>
        Results.Json(await uploads.GetAsync(context.Session().Device, id, context.RequestAborted).ConfigureAwait(false),
            DesktopJsonContext.Default.UploadStatus);

    private static async Task<IResult> AppendUploadAsync(HttpContext context, UploadService uploads, DeviceFileSystem fs, string id)
    {
        LimitBody(context, fs.Options.MaxFileBytes);
        var range = context.Request.Headers.ContentRange.ToString();
        if (!ContentRangeHeaderValue.TryParse(range, out var contentRange) || contentRange.From is null || contentRange.To is null
            || contentRange.Length is null || !string.Equals(contentRange.Unit.Value, "bytes", StringComparison.Ordinal))
        {
            throw new AtlasException(ErrorCodes.BadRequest, "Send each chunk with 'Content-Range: bytes <first>-<last>/<total>'.");
        }

        var status = await uploads.AppendAsync(context.Session().Device, id, contentRange.From.Value, contentRange.To.Value,
            contentRange.Length.Value, context.Request.Body, context.RequestAborted).ConfigureAwait(false);
        return Results.Json(status, DesktopJsonContext.Default.UploadStatus);
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
}
