using System.Collections.Concurrent;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Storage;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Files;

/// <summary>The body of <c>POST /files/upload/sessions</c>. <see cref="Path"/> and <see cref="Size"/> are required: they are
/// nullable so a missing field is told apart from a zero one (a missing size read as 0 would empty the target at once).</summary>
internal sealed record UploadCreateRequest(string? Path, long? Size, bool? Overwrite = null);

internal sealed record UploadStatus(string UploadId, string Path, long Size, long Received, bool Completed, FileEntry? Entry);

/// <summary>One open session in <c>GET /files/upload/sessions</c>.</summary>
internal sealed record UploadSessionView(string UploadId, string Path, long Size, long Received, bool Overwrite, DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt);

/// <summary>The answer of <c>GET /files/upload/sessions</c>: the calling device's open sessions, oldest first.</summary>
internal sealed record UploadSessionList(IReadOnlyList<UploadSessionView> Sessions);

/// <summary>Resumable chunked uploads: chunks append at the offset the server has; an interrupted client asks for the
/// offset and continues. The part file lives outside the device's namespace and moves into place with one rename when
/// complete. State is in SQLite, so uploads survive a desktop restart. An open session reserves its declared size of the
/// device's quota until it completes, is cancelled or expires, and a device has at most
/// <see cref="FilesOptions.MaxOpenUploads"/> open at once; a completion that is refused deletes its part.</summary>
internal sealed class UploadService
{
    private readonly IUploadStore _store;
    private readonly IDeviceStore _devices;
    private readonly DeviceFileSystem _files;
    private readonly DataDirectory _dataDirectory;
    private readonly FilesOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public UploadService(IUploadStore store, IDeviceStore devices, DeviceFileSystem files, DataDirectory dataDirectory, IOptions<AtlasOptions> options,
        AtlasTime time)
    {
        _store = store;
        _devices = devices;
        _files = files;
        _dataDirectory = dataDirectory;
        _options = options.Value.Files;
        _time = time.Provider;
    }

    /// <summary>Opens an upload session. The target (<paramref name="condition"/>, and that it does not exist unless the
    /// request overwrites) is checked now, so a doomed upload sends no bytes, and again by the client's last chunk, which
    /// completes the upload (the file may have appeared meanwhile).</summary>
    public async Task<UploadStatus> CreateAsync(DeviceRecord device, UploadCreateRequest request, FileCondition? condition,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Path is null)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "'path' is required: the file the upload creates.");
        }

        if (request.Size is not { } size)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "'size' is required: the upload's length in bytes.");
        }

        var overwrite = request.Overwrite ?? false;
        var (relative, _) = _files.Resolve(device.Id, request.Path);
        if (relative.Length == 0)
        {
            throw new AtlasException(ErrorCodes.InvalidPath, "A file path is needed.");
        }

        if (size < 0)
        {
            throw new AtlasException(ErrorCodes.BadRequest, $"'size' must not be negative (was {size}).");
        }

        if (size > _options.MaxFileBytes)
        {
            throw new AtlasException(ErrorCodes.TooLarge, $"size must be between 0 and {_options.MaxFileBytes} bytes.");
        }

        FileEntry? current;
        try
        {
            current = _files.Stat(device.Id, relative);
        }
        catch (AtlasException e) when (e.Code == ErrorCodes.NotFound)
        {
            current = null;
        }

        condition?.Check(relative, current);
        if (current?.Kind == "directory")
        {
            throw new AtlasException(ErrorCodes.Conflict, $"'{relative}' is a directory.");
        }

        if (current is not null && !overwrite)
        {
            throw new AtlasException(ErrorCodes.AlreadyExists, $"'{relative}' already exists; set overwrite to replace it.");
        }

        // Under the device's write lock: the reservation check and the new session are one step for quota accounting,
        // and a revoked device gets no part file.
        var record = await _files.ExclusiveAsync(device.Id, async () =>
        {
            await PurgeExpiredAsync(device.Id, cancellationToken).ConfigureAwait(false);
            _files.CheckRoomForNewFile(device.Id, relative); // a doomed upload sends no bytes
            var (usage, _) = _files.Usage(device.Id);
            var (reserved, sessions) = await _files.ReservedAsync(device.Id, null, cancellationToken).ConfigureAwait(false);
            if (sessions >= _options.MaxOpenUploads)
            {
                throw new AtlasException(ErrorCodes.QuotaExceeded,
                    $"The device already has {sessions} open upload sessions (limit {_options.MaxOpenUploads}); finish or cancel one first (GET /files/upload/sessions lists them).");
            }

            if (usage + reserved + size > device.QuotaBytes)
            {
                throw new AtlasException(ErrorCodes.QuotaExceeded,
                    $"The upload needs {size} bytes but the device has {Math.Max(0, device.QuotaBytes - usage - reserved)} left of its quota "
                    + $"({reserved} bytes are reserved by open upload sessions).");
            }

            var id = "up_" + Guid.NewGuid().ToString("N");
            var now = _time.GetUtcNow();
            var part = PartPath(device.Id, id);
            DataDirectory.CreatePrivate(Path.GetDirectoryName(part)!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await new FileStream(part, options).DisposeAsync().ConfigureAwait(false);
            var added = new UploadRecord(id, device.Id, relative, size, 0, overwrite, now, now + _options.UploadLifetime);
            await _store.AddAsync(added, CancellationToken.None).ConfigureAwait(false);
            return added;
        }, cancellationToken).ConfigureAwait(false);
        if (size == 0)
        {
            return await CompleteAsync(device, record, condition, cancellationToken).ConfigureAwait(false);
        }

        return Status(record, null);
    }

    /// <summary>The device's open (unexpired) sessions, so a client that lost its upload ids can continue or cancel them.</summary>
    public async Task<UploadSessionList> ListAsync(DeviceRecord device, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var open = (await _store.ForDeviceAsync(device.Id, cancellationToken).ConfigureAwait(false))
            .Where(u => u.ExpiresAt > now)
            .OrderBy(u => u.CreatedAt)
            .ThenBy(u => u.Id, StringComparer.Ordinal)
            .Select(u => new UploadSessionView(u.Id, u.Path, u.Size, u.Received, u.Overwrite, u.CreatedAt, u.ExpiresAt))
            .ToList();
        return new UploadSessionList(open);
    }

    public async Task<UploadStatus> GetAsync(DeviceRecord device, string id, CancellationToken cancellationToken) =>
        Status(await FindAsync(device, id, cancellationToken).ConfigureAwait(false), null);

    /// <summary>Appends a chunk; the chunk that completes the upload commits it if <paramref name="condition"/> holds.</summary>
    public async Task<UploadStatus> AppendAsync(DeviceRecord device, string id, long from, long to, long total, Stream body,
        FileCondition? condition, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var upload = await FindAsync(device, id, cancellationToken).ConfigureAwait(false);
            if (total != upload.Size)
            {
                throw new AtlasException(ErrorCodes.BadRequest, $"The Content-Range total {total} differs from the upload's size {upload.Size}.");
            }

            if (from != upload.Received)
            {
                throw new AtlasException(ErrorCodes.Conflict,
                    $"The server has {upload.Received} bytes of this upload; send the chunk starting at byte {upload.Received}.");
            }

            var length = to - from + 1;
            if (length <= 0 || to >= upload.Size)
            {
                throw new AtlasException(ErrorCodes.BadRequest, "The Content-Range is empty or past the end of the upload.");
            }

            var part = PartPath(device.Id, id);
            long written = 0;
            FileStream output;
            try
            {
                // Open, never create: a part deleted by revocation or expiry is not brought back.
                output = new FileStream(part, FileMode.Open, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                await _store.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
                throw new AtlasException(ErrorCodes.NotFound, "No such upload (its part file is gone: expired or the device was revoked).");
            }

            await using (output.ConfigureAwait(false))
            {
                output.SetLength(from);
                output.Position = from;
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    written += read;
                    if (written > length)
                    {
                        output.SetLength(from);
                        throw new AtlasException(ErrorCodes.BadRequest, "The chunk is longer than its Content-Range says.");
                    }

                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }

                if (written != length)
                {
                    output.SetLength(from);
                    throw new AtlasException(ErrorCodes.BadRequest, "The chunk is shorter than its Content-Range says; send it again.");
                }

                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            upload = upload with { Received = from + written };
            await _store.SetReceivedAsync(id, upload.Received, cancellationToken).ConfigureAwait(false);
            return upload.Received == upload.Size
                ? await CompleteAsync(device, upload, condition, cancellationToken).ConfigureAwait(false)
                : Status(upload, null);
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task CancelAsync(DeviceRecord device, string id, CancellationToken cancellationToken)
    {
        var upload = await FindAsync(device, id, cancellationToken).ConfigureAwait(false);
        await DeleteAsync(upload).ConfigureAwait(false);
    }

    /// <summary>Deletes uploads abandoned past their lifetime, with their parts, and the part folders of devices that no
    /// longer exist (left by revocations before revocation deleted them).</summary>
    public async Task<int> PurgeExpiredAsync(CancellationToken cancellationToken)
    {
        var expired = await _store.ExpiredAsync(_time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        foreach (var upload in expired)
        {
            await DeleteAsync(upload).ConfigureAwait(false);
        }

        var removed = expired.Count;
        if (Directory.Exists(_dataDirectory.UploadsRoot))
        {
            foreach (var folder in Directory.EnumerateDirectories(_dataDirectory.UploadsRoot))
            {
                var deviceId = Path.GetFileName(folder);
                if (deviceId.StartsWith("dev_", StringComparison.Ordinal) && deviceId.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
                    && await _devices.GetAsync(deviceId, cancellationToken).ConfigureAwait(false) is null)
                {
                    await _files.RetireAsync(deviceId, deleteFiles: false, cancellationToken).ConfigureAwait(false);
                    removed++;
                }
            }
        }

        return removed;
    }

    private async Task PurgeExpiredAsync(string deviceId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        foreach (var upload in await _store.ForDeviceAsync(deviceId, cancellationToken).ConfigureAwait(false))
        {
            if (upload.ExpiresAt <= now)
            {
                await DeleteAsync(upload).ConfigureAwait(false);
            }
        }
    }

    private async Task<UploadStatus> CompleteAsync(DeviceRecord device, UploadRecord upload, FileCondition? condition, CancellationToken cancellationToken)
    {
        FileEntry entry;
        try
        {
            entry = await _files.CommitAsync(device.Id, device.QuotaBytes, upload.Path, upload.Id, PartPath(device.Id, upload.Id), upload.Overwrite,
                condition, cancellationToken).ConfigureAwait(false);
        }
        catch (AtlasException)
        {
            // A refused completion cannot be retried (the bytes are all there): its part and reservation go now.
            await DeleteAsync(upload).ConfigureAwait(false);
            throw;
        }

        await _store.DeleteAsync(upload.Id, CancellationToken.None).ConfigureAwait(false);
        _locks.TryRemove(upload.Id, out _);
        return Status(upload with { Received = upload.Size }, entry);
    }

    /// <summary>Deletes a session and its part; not cancellable, so a session is never left half deleted.</summary>
    private async Task DeleteAsync(UploadRecord upload)
    {
        await _store.DeleteAsync(upload.Id, CancellationToken.None).ConfigureAwait(false);
        File.Delete(PartPath(upload.DeviceId, upload.Id));
        _locks.TryRemove(upload.Id, out _);
    }

    private async Task<UploadRecord> FindAsync(DeviceRecord device, string id, CancellationToken cancellationToken)
    {
        if (id.Length > 64 || !id.StartsWith("up_", StringComparison.Ordinal) || !id.Skip(3).All(char.IsAsciiHexDigitLower))
        {
            throw new AtlasException(ErrorCodes.NotFound, "No such upload.");
        }

        var upload = await _store.GetAsync(device.Id, id, cancellationToken).ConfigureAwait(false)
            ?? throw new AtlasException(ErrorCodes.NotFound, "No such upload (finished, cancelled, expired, or another device's).");
        if (upload.ExpiresAt <= _time.GetUtcNow())
        {
            await DeleteAsync(upload).ConfigureAwait(false);
            throw new AtlasException(ErrorCodes.NotFound, "No such upload (finished, cancelled, expired, or another device's).");
        }

        return upload;
    }

    private string PartPath(string deviceId, string id) => Path.Combine(_files.PartsOf(deviceId), id + ".part");

    private static UploadStatus Status(UploadRecord upload, FileEntry? entry) =>
        new(upload.Id, upload.Path, upload.Size, upload.Received, entry is not null, entry);
}
