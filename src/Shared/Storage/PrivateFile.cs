using System.Text;

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

    /// <summary>Runs <paramref name="update"/> on the current content under the lock and writes what it returns (nothing when it returns <see langword="null"/>).</summary>
    public static void Update(string path, Func<string?, string?> update)
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

        using var fileLock = AcquireLock(path + ".lock");
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

    /// <summary>Returns when the file was last replaced (or <see cref="DateTime.MinValue"/> when it does not exist), to notice changes made by other processes.</summary>
    public static (DateTime WrittenAt, long Length) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }

    private static FileStream AcquireLock(string lockPath)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode0600;
        }

        var deadline = Environment.TickCount64 + (long)LockWait.TotalMilliseconds;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, options);
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                // Another process holds the lock for the few milliseconds of its write.
#pragma warning disable RS0030 // replaced by helper i17-rooms (the consent store writer and the gateway TokenStore stop spinning here)
                Thread.Sleep(10);
#pragma warning restore RS0030
            }
        }
    }
}
