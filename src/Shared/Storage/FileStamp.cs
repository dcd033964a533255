namespace Shared.Storage;

/// <summary>
/// What a file's metadata said when a cache read it (last write time and length), so the cache reads the file again
/// only when it changed. File systems keep write times in ticks (a jiffy of 1–10 ms on Linux before 6.13, 1 s on ext3,
/// 2 s on FAT), so a file written again within the tick of a read, to the same length, keeps its stamp. A stamp is
/// therefore trusted only when the file was already older than <see cref="Settle"/> when it was read, as git trusts
/// its index ("racy git"); a cache that read a younger file reads it again the next time it looks.
/// </summary>
/// <param name="WrittenAt">The file's last write time (UTC), or <see cref="DateTime.MinValue"/> when there is no file.</param>
/// <param name="Length">Its length, or -1 when there is no file.</param>
internal readonly record struct FileStamp(DateTime WrittenAt, long Length)
{
    /// <summary>How much older than its read a file must be for its stamp to tell every later write apart (the coarsest tick, FAT's 2 s).</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    /// <summary>Gets a stamp no file has: what a cache holds before its first read, or to read again next time.</summary>
    public static FileStamp Unread { get; } = new(DateTime.MaxValue, -2);

    /// <summary>Gets the time to pass to <see cref="KeepFor"/>: the system clock, which stamps the files, never a test's clock.</summary>
    public static DateTime ReadTime => TimeProvider.System.GetUtcNow().UtcDateTime;

    /// <summary>Gets the file's stamp now.</summary>
    /// <param name="file">The file.</param>
    /// <returns>Its stamp, or the stamp of no file.</returns>
    public static FileStamp Of(FileInfo file) => file.Exists ? new(file.LastWriteTimeUtc, file.Length) : new(DateTime.MinValue, -1);

    /// <summary>Gets the file's stamp now.</summary>
    /// <param name="path">The file.</param>
    /// <returns>Its stamp, or the stamp of no file.</returns>
    public static FileStamp Of(string path) => Of(new FileInfo(path));

    /// <summary>
    /// The stamp a cache may keep for what it read under this one: this stamp when the file was already settled at
    /// <paramref name="readAt"/>, otherwise <see cref="Unread"/>, so the next look reads the file again.
    /// </summary>
    /// <param name="readAt">The <see cref="ReadTime"/> taken before this stamp was.</param>
    /// <returns>The stamp to keep.</returns>
    public FileStamp KeepFor(DateTime readAt) => Length < 0 || readAt - WrittenAt >= Settle ? this : Unread;
}
