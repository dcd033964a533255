using System.Text;
using Shared.Storage;
using Shared.Timing;

namespace Mmcp.Client.Storage;

/// <summary>
/// Small state files only the user may read (mode 0600 in a 0700 directory), replaced atomically (temp file + rename)
/// under an exclusive lock file, so concurrent processes (a gateway and the <c>mmcp</c> CLI) never lose each other's
/// changes and a crash leaves the old or the new file.
/// </summary>
internal static class PrivateFile
{
    private const UnixFileMode FileMode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LockRetryInitial = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LockRetryMax = TimeSpan.FromMilliseconds(200);

    /// <summary>Reads the file, or returns <see langword="null"/> when it does not exist.</summary>
    public static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path, Encoding.UTF8);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Runs <paramref name="update"/> on the current content under the lock and writes what it returns (nothing when it
    /// returns <see langword="null"/>). Waits for the lock without blocking a thread, retrying with backoff.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="update">Computes the new content from the current one (<see langword="null"/> when the file does not exist).</param>
    /// <param name="timeProvider">The clock of the retries; <see langword="null"/> for the system clock.</param>
    /// <param name="cancellationToken">Stops waiting for the lock.</param>
    /// <returns>A task that completes when the file is written.</returns>
    /// <exception cref="IOException">The lock stayed held for the whole lock wait (the message names the file and, when known, the process holding it).</exception>
    public static async Task UpdateAsync(string path, Func<string?, string?> update, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        var lockPath = EnsureDirectory(path) + ".lock";
        using var fileLock = await AcquireLockAsync(lockPath, timeProvider ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
        WriteLocked(path, update);
    }

    /// <summary>As <see cref="UpdateAsync"/>, but only when the lock is free now: returns <see langword="false"/> at once when another writer holds it (for callers that must not wait).</summary>
    /// <param name="path">The file.</param>
    /// <param name="update">Computes the new content from the current one.</param>
    /// <returns>Whether the lock was free (and the update ran).</returns>
    public static bool TryUpdate(string path, Func<string?, string?> update)
    {
        var lockPath = EnsureDirectory(path) + ".lock";
        using var fileLock = TryOpenLock(lockPath, out _);
        if (fileLock is null)
        {
            return false;
        }

        WriteLocked(path, update);
        return true;
    }

    private static string EnsureDirectory(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, DirectoryMode0700);
            }
        }

        return Path.GetFullPath(path);
    }

    private static void WriteLocked(string path, Func<string?, string?> update)
    {
        var updated = update(Read(path));
        if (updated is null)
        {
            return;
        }

        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = FileMode0600;
            }

            using (var stream = new FileStream(temp, options))
            {
                stream.Write(Encoding.UTF8.GetBytes(updated));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Deletes a file when it can (a temp file left by a failed write); a file that is gone, busy or not ours stays as it is.</summary>
    /// <param name="path">The file.</param>
    public static void TryDelete(string path) => FileCleanup.TryDelete(path);

    /// <summary>Returns when the file was last replaced (or <see cref="DateTime.MinValue"/> when it does not exist), to notice changes made by other processes.</summary>
    public static FileStamp Stamp(string path) => FileStamp.Of(path);

    private static async Task<FileStream> AcquireLockAsync(string lockPath, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryOpenLock(lockPath, out var failure) is { } stream)
            {
                return stream;
            }

            // Another process holds the lock for the few milliseconds of its write: wait a little longer each time.
            var left = LockWait - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                throw new IOException(
                    $"The lock file '{lockPath}' stayed held for {LockWait.TotalSeconds:0} s{DescribeHolder(lockPath)}. Another mmcp or atlas process is writing the file or hangs; if none runs, delete the lock file.",
                    failure);
            }

            var delay = Backoff.Delay(attempt, LockRetryInitial, LockRetryMax, BackoffJitter.Equal);
            await Task.Delay(delay < left ? delay : left, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static FileStream? TryOpenLock(string lockPath, out IOException? failure)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode0600;
        }

        try
        {
            failure = null;
            return new FileStream(lockPath, options);
        }
        catch (IOException ex) when (ex is not (DirectoryNotFoundException or FileNotFoundException or PathTooLongException))
        {
            failure = ex;
            return null;
        }
    }

    /// <summary>Names the process holding the lock when Linux says (an flock in <c>/proc/locks</c> by a process with the file open), or nothing.</summary>
    private static string DescribeHolder(string lockPath)
    {
        if (!OperatingSystem.IsLinux())
        {
            return string.Empty;
        }

        try
        {
            foreach (var line in File.ReadLines("/proc/locks"))
            {
                // "1: FLOCK  ADVISORY  WRITE 12345 08:01:1234567 0 EOF"
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 5 || fields[1] != "FLOCK" || !int.TryParse(fields[4], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
                {
                    continue;
                }

                if (HasOpen(pid, lockPath))
                {
                    var name = File.ReadAllText($"/proc/{pid}/comm").Trim();
                    return $" by process {pid} ({name})";
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: /proc may be missing, or the process ended while it was looked at.
        }

        return string.Empty;
    }

    private static bool HasOpen(int pid, string path)
    {
        try
        {
            foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
            {
                if (string.Equals(new FileInfo(fd).LinkTarget, path, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Another user's process, or one that ended meanwhile.
        }

        return false;
    }
}
