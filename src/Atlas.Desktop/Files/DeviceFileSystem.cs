using System.Collections.Concurrent;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Storage;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Files;

/// <summary>Per-device file namespaces under <c>&lt;data&gt;/files/&lt;deviceId&gt;</c>: list, stat, read (ranges), atomic
/// write, mkdir, move and delete, with quotas. Mutations of one device are serialized so quota accounting is exact; the
/// quota counts the device's files and what its open upload sessions reserve. Every mutation checks, under the device's
/// lock, that the device was not revoked before it creates or commits anything (revocation deletes under that lock), and
/// reads never create the device's folder.</summary>
internal sealed class DeviceFileSystem
{
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _filesRoot;
    private readonly string _uploadsRoot;
    private readonly FilesOptions _options;
    private readonly IUploadStore _uploads;
    private readonly DeviceLifetimes _lifetimes;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public DeviceFileSystem(DataDirectory dataDirectory, IOptions<AtlasOptions> options, IUploadStore uploads, DeviceLifetimes lifetimes,
        AtlasTime time)
    {
        _filesRoot = dataDirectory.FilesRoot;
        _uploadsRoot = dataDirectory.UploadsRoot;
        _options = options.Value.Files;
        _uploads = uploads;
        _lifetimes = lifetimes;
        _time = time.Provider;
    }

    public FilesOptions Options => _options;

    /// <summary>
    /// Gives a file about to replace <paramref name="replaced"/> its write time: now, or just past the replaced file's
    /// when that is not older, so every write at a path gets a later time and so a new entity tag (size and write time).
    /// A file system's own times come in ticks (a jiffy on Linux before 6.13): two writes of the same size within one
    /// tick would keep the tag, and a phone holding the first version's tag could overwrite the second (a lost update).
    /// </summary>
    private void StampReplacing(string incoming, string replaced)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var previous = File.Exists(replaced) ? File.GetLastWriteTimeUtc(replaced) : DateTime.MinValue;
        File.SetLastWriteTimeUtc(incoming, now > previous ? now : previous.AddTicks(TimeSpan.TicksPerMicrosecond)); // a microsecond: kept by every file system with sub-second times
    }

    /// <summary>The device's folder (not created here: only a mutation of a live device creates it).</summary>
    public string RootOf(string deviceId) => Path.Combine(_filesRoot, CheckId(deviceId));

    /// <summary>The folder of the device's upload part files.</summary>
    public string PartsOf(string deviceId) => Path.Combine(_uploadsRoot, CheckId(deviceId));

    private static string CheckId(string deviceId) =>
        deviceId.StartsWith("dev_", StringComparison.Ordinal) && deviceId.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            ? deviceId
            : throw new ArgumentException($"'{deviceId}' is not a device id.", nameof(deviceId));

    /// <summary>Runs <paramref name="action"/> under the device's write lock once the device is known to be live (upload
    /// sessions create and commit their parts this way, so revocation and quota accounting see them).</summary>
    public async Task<T> ExclusiveAsync<T>(string deviceId, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        var gate = Gate(deviceId);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRevoked(deviceId);
            return await action().ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>After revocation: under the device's write lock (so no write in flight finishes afterwards) deletes the
    /// device's upload parts and, with <paramref name="deleteFiles"/>, its files.</summary>
    public async Task RetireAsync(string deviceId, bool deleteFiles, CancellationToken cancellationToken)
    {
        var gate = Gate(deviceId);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            DeleteDirectory(PartsOf(deviceId));
            if (deleteFiles)
            {
                DeleteDirectory(RootOf(deviceId));
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Bytes the device's open upload sessions reserve: the declared size of each unexpired session (its part
    /// never grows past it), plus any part file on disk without a session. <paramref name="exceptUploadId"/> (the one
    /// being committed) is left out.</summary>
    public async Task<(long Bytes, int Sessions)> ReservedAsync(string deviceId, string? exceptUploadId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var open = (await _uploads.ForDeviceAsync(deviceId, cancellationToken).ConfigureAwait(false))
            .Where(u => u.ExpiresAt > now && u.Id != exceptUploadId)
            .ToDictionary(u => u.Id, u => u.Size, StringComparer.Ordinal);
        var bytes = open.Values.Sum();
        var parts = PartsOf(deviceId);
        if (Directory.Exists(parts))
        {
            foreach (var part in new DirectoryInfo(parts).EnumerateFiles("*.part"))
            {
                var id = Path.GetFileNameWithoutExtension(part.Name);
                if (id != exceptUploadId && !open.ContainsKey(id))
                {
                    bytes += part.Length;
                }
            }
        }

        return (bytes, open.Count);
    }

    public FileEntry Stat(string deviceId, string? path)
    {
        var (relative, full) = Resolve(deviceId, path);
        return Entry(relative, full)
            ?? (relative.Length == 0 ? new FileEntry { Path = "", Name = "", Kind = "directory", Size = 0, Modified = _time.GetUtcNow() } : throw NotFound(relative));
    }

    public IReadOnlyList<FileEntry> List(string deviceId, string? path)
    {
        var (relative, full) = Resolve(deviceId, path);
        if (File.Exists(full))
        {
            throw new AtlasException(ErrorCodes.Conflict, $"'{relative}' is a file, not a directory; use stat or read.");
        }

        if (!Directory.Exists(full))
        {
            return relative.Length == 0 ? [] : throw NotFound(relative);
        }

        var entries = new List<FileEntry>();
        foreach (var info in new DirectoryInfo(full).EnumerateFileSystemInfos())
        {
            if (info.Name.StartsWith(DevicePath.TempPrefix, StringComparison.Ordinal) || info.LinkTarget is not null)
            {
                continue;
            }

            entries.Add(ToEntry(relative.Length == 0 ? info.Name : relative + "/" + info.Name, info));
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return entries;
    }

    /// <summary>Opens a file for reading (shared, so a concurrent atomic replace does not disturb the reader).</summary>
    public (FileStream Stream, string Relative) OpenRead(string deviceId, string? path)
    {
        var (relative, full) = Resolve(deviceId, path);
        if (Directory.Exists(full))
        {
            throw new AtlasException(ErrorCodes.Conflict, $"'{relative}' is a directory; use list.");
        }

        if (!File.Exists(full))
        {
            throw NotFound(relative);
        }

        return (new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 16 * 1024, useAsync: true), relative);
    }

    public async Task<(byte[] Content, long Size)> ReadRangeAsync(string deviceId, string? path, long offset, long? length,
        CancellationToken cancellationToken)
    {
        var (stream, _) = OpenRead(deviceId, path);
        await using (stream.ConfigureAwait(false))
        {
            if (offset < 0 || offset > stream.Length)
            {
                throw new AtlasException(ErrorCodes.BadRequest, $"offset {offset} is outside the file (size {stream.Length}).");
            }

            if (length < 0)
            {
                throw new AtlasException(ErrorCodes.BadRequest, $"length must not be negative (was {length}).");
            }

            var wanted = Math.Min(length ?? _options.MaxFrameReadBytes, stream.Length - offset);
            if (wanted > _options.MaxFrameReadBytes)
            {
                throw new AtlasException(ErrorCodes.TooLarge,
                    $"length must be between 0 and {_options.MaxFrameReadBytes} bytes per frame; read larger files in ranges or with GET /files/read.");
            }

            var buffer = new byte[wanted];
            stream.Position = offset;
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
            return (buffer, stream.Length);
        }
    }

    /// <summary>Writes atomically: the content goes to a temporary file in the device's folder (the same file system), is
    /// flushed to disk, and replaces the target with one rename, so a crash leaves the old file or the new one, never a
    /// mix. Missing parent folders count against the entry limit and are created only once the content is in.</summary>
    public Task<FileEntry> WriteAsync(string deviceId, long quotaBytes, string? path, Stream content, bool overwrite,
        CancellationToken cancellationToken) => WriteAsync(deviceId, quotaBytes, path, content, overwrite, null, cancellationToken);

    /// <summary><see cref="WriteAsync(string, long, string?, Stream, bool, CancellationToken)"/> that first checks
    /// <paramref name="condition"/> against the target under the device's lock (before any byte is read).</summary>
    public async Task<FileEntry> WriteAsync(string deviceId, long quotaBytes, string? path, Stream content, bool overwrite,
        FileCondition? condition, CancellationToken cancellationToken)
    {
        var (relative, full) = Resolve(deviceId, path);
        if (relative.Length == 0)
        {
            throw new AtlasException(ErrorCodes.InvalidPath, "A file path is needed; the device's root is a directory.");
        }

        var gate = Gate(deviceId);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRevoked(deviceId);
            if (Directory.Exists(full))
            {
                throw new AtlasException(ErrorCodes.Conflict, $"'{relative}' is a directory.");
            }

            condition?.Check(relative, Entry(relative, full));
            var existing = File.Exists(full) ? new FileInfo(full).Length : -1;
            if (existing >= 0 && !overwrite)
            {
                throw new AtlasException(ErrorCodes.AlreadyExists, $"'{relative}' already exists; set overwrite to replace it.");
            }

            CheckRoom(deviceId, relative, addsTarget: existing < 0);
            var (usage, _) = Usage(deviceId);
            var (reserved, _) = await ReservedAsync(deviceId, null, cancellationToken).ConfigureAwait(false);
            var allowance = Math.Min(_options.MaxFileBytes, quotaBytes - usage - reserved + Math.Max(existing, 0));
            EnsureRoot(deviceId);
            // In the device's folder, not the target's: a write refused or cut off mid-body leaves no folder behind.
            var temp = Path.Combine(RootOf(deviceId), DevicePath.TempPrefix + "tmp-" + Guid.NewGuid().ToString("N"));
            try
            {
                await CopyLimitedAsync(content, temp, allowance, quotaBytes, cancellationToken).ConfigureAwait(false);
                ThrowIfRevoked(deviceId);
                StampReplacing(temp, full);
                CreateParentsThen(deviceId, relative, () => File.Move(temp, full, overwrite: true));
            }
            finally
            {
                File.Delete(temp);
            }

            return Entry(relative, full)!;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Moves a finished upload's part file into place with one rename (same quota rules as the whole-file write;
    /// the other open sessions' reservations count).</summary>
    public async Task<FileEntry> CommitAsync(string deviceId, long quotaBytes, string? path, string uploadId, string partFile, bool overwrite,
        FileCondition? condition, CancellationToken cancellationToken)
    {
        var (relative, full) = Resolve(deviceId, path);
        var gate = Gate(deviceId);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRevoked(deviceId);
            if (Directory.Exists(full) || relative.Length == 0)
            {
                throw new AtlasException(ErrorCodes.Conflict, $"'{relative}' is a directory.");
            }

            condition?.Check(relative, Entry(relative, full));
            var existing = File.Exists(full) ? new FileInfo(full).Length : -1;
            if (existing >= 0 && !overwrite)
            {
                throw new AtlasException(ErrorCodes.AlreadyExists, $"'{relative}' already exists; set overwrite to replace it.");
            }

            CheckRoom(deviceId, relative, addsTarget: existing < 0);
            var size = new FileInfo(partFile).Length;
            var (usage, _) = Usage(deviceId);
            var (reserved, _) = await ReservedAsync(deviceId, uploadId, cancellationToken).ConfigureAwait(false);
            if (usage + reserved - Math.Max(existing, 0) + size > quotaBytes)
            {
                throw new AtlasException(ErrorCodes.QuotaExceeded, "The upload would exceed the device's storage quota; free space or ask for a larger quota.");
            }

            using (var handle = File.OpenHandle(partFile, FileMode.Open, FileAccess.ReadWrite))
            {
                RandomAccess.FlushToDisk(handle);
            }

            StampReplacing(partFile, full);
            CreateParentsThen(deviceId, relative, () => File.Move(partFile, full, overwrite: true));
            return Entry(relative, full)!;
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<FileEntry> MkdirAsync(string deviceId, string? path, CancellationToken cancellationToken)
    {
        var (relative, full) = Resolve(deviceId, path);
        var gate = Gate(deviceId);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRevoked(deviceId);
            if (File.Exists(full))
            {
                throw new AtlasException(ErrorCodes.Conflict, $"'{relative}' is a file.");
            }

            if (!Directory.Exists(full))
            {
                CheckRoom(deviceId, relative, addsTarget: true);
                CreateParentsThen(deviceId, relative, () => CreateDirectory(full));
            }

            return Entry(relative, full)!;
        }
        finally
        {
            gate.Release();
        }
    }

    public Task<FileEntry> MoveAsync(string deviceId, string? from, string? to, bool overwrite, CancellationToken cancellationToken) =>
        MoveAsync(deviceId, from, to, overwrite, null, cancellationToken);

    /// <summary>Moves <paramref name="from"/> to <paramref name="to"/>; <paramref name="condition"/> is checked against the
    /// source (the version the client saw) under the device's lock.</summary>
    public async Task<FileEntry> MoveAsync(string deviceId, string? from, string? to, bool overwrite, FileCondition? condition,
        CancellationToken cancellationToken)
    {
        if (to is null)
        {
            // Never read as "" (the root): that answered "the root cannot be moved", about a field never sent.
            throw new AtlasException(ErrorCodes.BadRequest, "'to' is required for move: the destination path.");
        }

        var (source, sourceFull) = Resolve(deviceId, from);
        var (target, targetFull) = Resolve(deviceId, to);
        if (source.Length == 0 || target.Length == 0)
        {
            throw new AtlasException(ErrorCodes.InvalidPath, "The device's root cannot be moved or replaced.");
        }

        if (target == source || target.StartsWith(source + "/", StringComparison.Ordinal))
        {
            throw new AtlasException(ErrorCodes.InvalidPath, $"'{source}' cannot be moved into itself.");
        }

        var gate = Gate(deviceId);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRevoked(deviceId);
            var isFile = File.Exists(sourceFull);
            if (!isFile && !Directory.Exists(sourceFull))
            {
                throw NotFound(source);
            }

            condition?.Check(source, Entry(source, sourceFull));
            var targetExists = File.Exists(targetFull) || Directory.Exists(targetFull);
            if (targetExists && (!overwrite || !isFile || Directory.Exists(targetFull)))
            {
                throw new AtlasException(ErrorCodes.AlreadyExists,
                    $"'{target}' already exists; set overwrite to replace a file (directories are never replaced).");
            }

            CheckRoom(deviceId, target, addsTarget: false);
            CreateParentsThen(deviceId, target, () =>
            {
                if (isFile)
                {
                    File.Move(sourceFull, targetFull, overwrite);
                }
                else
                {
                    Directory.Move(sourceFull, targetFull);
                }
            });

            return Entry(target, targetFull)!;
        }
        finally
        {
            gate.Release();
        }
    }

    public Task DeleteAsync(string deviceId, string? path, bool recursive, CancellationToken cancellationToken) =>
        DeleteAsync(deviceId, path, recursive, null, cancellationToken);

    /// <summary>Deletes a file or folder; <paramref name="condition"/> is checked against it under the device's lock.</summary>
    public async Task DeleteAsync(string deviceId, string? path, bool recursive, FileCondition? condition, CancellationToken cancellationToken)
    {
        var (relative, full) = Resolve(deviceId, path);
        if (relative.Length == 0)
        {
            throw new AtlasException(ErrorCodes.InvalidPath, "The device's root cannot be deleted.");
        }

        var gate = Gate(deviceId);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfRevoked(deviceId);
            if (condition is not null && (File.Exists(full) || Directory.Exists(full)))
            {
                condition.Check(relative, Entry(relative, full));
            }

            if (File.Exists(full))
            {
                File.Delete(full);
            }
            else if (Directory.Exists(full))
            {
                if (!recursive && Directory.EnumerateFileSystemEntries(full).Any())
                {
                    throw new AtlasException(ErrorCodes.Conflict, $"'{relative}' is not empty; set recursive to delete it with its contents.");
                }

                Directory.Delete(full, recursive);
            }
            else
            {
                throw NotFound(relative);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Bytes used and entries held by a device (its files, not temporaries).</summary>
    public (long Bytes, int Entries) Usage(string deviceId)
    {
        long bytes = 0;
        var entries = 0;
        var root = RootOf(deviceId);
        if (!Directory.Exists(root))
        {
            return (0, 0);
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        foreach (var info in new DirectoryInfo(root).EnumerateFileSystemInfos("*", options))
        {
            entries++;
            if (info is FileInfo file)
            {
                bytes += file.Length;
            }
        }

        return (bytes, entries);
    }

    /// <summary>Removes temporaries left by a crash (called at startup, when no write can be in flight).</summary>
    public int RemoveStaleTemporaries()
    {
        if (!Directory.Exists(_filesRoot))
        {
            return 0;
        }

        var removed = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        foreach (var file in Directory.EnumerateFiles(_filesRoot, DevicePath.TempPrefix + "tmp-*", options))
        {
            File.Delete(file);
            removed++;
        }

        return removed;
    }

    public (string Relative, string Full) Resolve(string deviceId, string? path)
    {
        var relative = DevicePath.Normalize(path);
        return (relative, DevicePath.Resolve(RootOf(deviceId), relative));
    }

    /// <summary>Under the device's lock, before anything is created: refuses a change at <paramref name="relative"/>
    /// whose missing parent folders (plus the target itself when <paramref name="addsTarget"/>) would take the device past
    /// <see cref="FilesOptions.MaxEntries"/>, or whose parent path runs into a file.</summary>
    private void CheckRoom(string deviceId, string relative, bool addsTarget)
    {
        var adding = MissingParents(deviceId, relative).Count + (addsTarget ? 1 : 0);
        if (adding == 0)
        {
            return;
        }

        var (_, entries) = Usage(deviceId);
        if (entries + adding > _options.MaxEntries)
        {
            throw new AtlasException(ErrorCodes.QuotaExceeded,
                $"The change would add {adding} files and folders to the device's {entries} (limit {_options.MaxEntries}).");
        }
    }

    /// <summary>For an upload being opened (in <see cref="ExclusiveAsync"/>): refuses a new file at
    /// <paramref name="relative"/> that would not fit the entry limit; the completion checks again.</summary>
    public void CheckRoomForNewFile(string deviceId, string relative)
    {
        var full = DevicePath.Resolve(RootOf(deviceId), relative);
        CheckRoom(deviceId, relative, addsTarget: !File.Exists(full));
    }

    /// <summary>The parent folders of <paramref name="relative"/> that do not exist yet, outermost first.</summary>
    private List<string> MissingParents(string deviceId, string relative)
    {
        var missing = new List<string>();
        var slash = relative.LastIndexOf('/');
        if (slash < 0)
        {
            return missing;
        }

        var root = RootOf(deviceId);
        var current = root;
        foreach (var segment in relative[..slash].Split('/'))
        {
            current = Path.Combine(current, segment);
            if (missing.Count > 0 || !Directory.Exists(current))
            {
                if (File.Exists(current))
                {
                    throw new AtlasException(ErrorCodes.Conflict, $"'{Path.GetRelativePath(root, current)}' is a file, not a directory.");
                }

                missing.Add(current);
            }
        }

        return missing;
    }

    /// <summary>Creates the missing parents of <paramref name="relative"/> and runs <paramref name="commit"/>; when the
    /// commit fails, removes the folders it created (a refused change changes nothing). Only under the device's lock,
    /// after every check, so no other change of the device sees or uses those folders meanwhile.</summary>
    private void CreateParentsThen(string deviceId, string relative, Action commit)
    {
        EnsureRoot(deviceId);
        var created = MissingParents(deviceId, relative);
        try
        {
            foreach (var folder in created)
            {
                CreateDirectory(folder);
            }

            commit();
        }
        catch
        {
            for (var i = created.Count - 1; i >= 0; i--)
            {
                try
                {
                    Directory.Delete(created[i]);
                }
                catch (IOException)
                {
                    // Not empty or already gone: leave it.
                }
            }

            throw;
        }
    }

    private static async Task CopyLimitedAsync(Stream content, string temp, long allowance, long quotaBytes, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFile;
        }

        await using var output = new FileStream(temp, options);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > allowance)
                {
                    throw total > quotaBytes || allowance < quotaBytes
                        ? new AtlasException(ErrorCodes.QuotaExceeded, "The write would exceed the device's storage quota or the largest file size; free space or ask for a larger quota.")
                        : new AtlasException(ErrorCodes.TooLarge, "The file is larger than the largest file size allowed.");
                }

                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            output.Flush(flushToDisk: true);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private SemaphoreSlim Gate(string deviceId) => _locks.GetOrAdd(deviceId, _ => new SemaphoreSlim(1, 1));

    /// <summary>Called under the device's lock before anything is created or committed.</summary>
    private void ThrowIfRevoked(string deviceId)
    {
        if (_lifetimes.IsRevoked(deviceId))
        {
            throw new AtlasException(ErrorCodes.Revoked, "The device is no longer paired with this desktop.");
        }
    }

    /// <summary>Creates the device's folder; only under the device's lock, after <see cref="ThrowIfRevoked"/>.</summary>
    private void EnsureRoot(string deviceId)
    {
        var root = RootOf(deviceId);
        if (!Directory.Exists(root))
        {
            CreateDirectory(root);
        }
    }

    private static void DeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing to delete.
        }
    }

    private static FileEntry? Entry(string relative, string full)
    {
        if (File.Exists(full))
        {
            return ToEntry(relative, new FileInfo(full));
        }

        return Directory.Exists(full) ? ToEntry(relative, new DirectoryInfo(full)) : null;
    }

    private static FileEntry ToEntry(string relative, FileSystemInfo info) => new()
    {
        Path = relative,
        Name = relative.Length == 0 ? "" : info.Name,
        Kind = info is FileInfo ? "file" : "directory",
        Size = info is FileInfo file ? file.Length : 0,
        Modified = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero),
        ETag = info is FileInfo sized ? FileCondition.ETagOf(sized.Length, info.LastWriteTimeUtc) : null,
    };

    private static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, PrivateDirectory);
        }
    }

    private static AtlasException NotFound(string relative) =>
        new(ErrorCodes.NotFound, $"'{(relative.Length == 0 ? "/" : relative)}' does not exist.");
}
