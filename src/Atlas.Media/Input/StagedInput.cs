using System.Security.Cryptography;

namespace Atlas.Media.Input;

/// <summary>
/// The input copied into the job's private directory while it is hashed and checked: tools only ever see this copy,
/// named by us, so the caller's file changing or being a symlink later cannot affect the job.
/// </summary>
internal sealed record StagedInput(string Path, string Sha256, long Length, SniffedFormat Format)
{
    /// <summary>
    /// Copies, hashes and sniffs the input. Before a byte is written: a path must name a regular, non-empty file no
    /// larger than <paramref name="maxBytes"/> (from its metadata, so a pipe or device is never opened and a huge file is
    /// never read), and the first bytes must be a supported format.
    /// </summary>
    public static async Task<StagedInput> StageAsync(MediaRequest request, string directory, long maxBytes, CancellationToken cancellationToken)
    {
        var name = DisplayName(request);
        Stream source;
        var owned = false;
        var expectedLength = -1L;
        if (request.FilePath is { } filePath)
        {
            expectedLength = CheckRegularFile(filePath, maxBytes);
            var file = OpenRegularFile(filePath);
            source = file;
            owned = true;
        }
        else
        {
            source = request.Content!;
            if (source.CanSeek && source.Length - source.Position > maxBytes)
            {
                throw TooLarge(name, maxBytes);
            }
        }

        var target = System.IO.Path.Combine(directory, "input");
        var header = new byte[ContentSniffer.HeaderLength];
        var tail = new byte[64];
        var tailLength = 0;
        try
        {
            // The header first: an unsupported or unsafe format is refused before anything is written.
            var headerLength = await ReadHeaderAsync(source, header, cancellationToken).ConfigureAwait(false);
            long total = headerLength;
            if (expectedLength >= 0 && total > expectedLength)
            {
                throw Changed(name);
            }

            if (total > maxBytes)
            {
                throw TooLarge(name, maxBytes);
            }

            ContentSniffer.Sniff(header.AsSpan(0, headerLength), headerLength);
            await using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(header.AsSpan(0, headerLength));
            KeepTail(tail, ref tailLength, header.AsSpan(0, headerLength));
            await output.WriteAsync(header.AsMemory(0, headerLength), cancellationToken).ConfigureAwait(false);
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(128 * 1024);
            try
            {
                int read;
                while ((read = await source.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                    if (expectedLength >= 0 && total > expectedLength)
                    {
                        // Devices such as /dev/zero report length 0 and never end; growing files change under us.
                        throw Changed(name);
                    }

                    if (total > maxBytes)
                    {
                        throw TooLarge(name, maxBytes);
                    }

                    var chunk = buffer.AsSpan(0, read);
                    hash.AppendData(chunk);
                    KeepTail(tail, ref tailLength, chunk);
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }

            var format = ContentSniffer.Sniff(header.AsSpan(0, headerLength), total);
            ContentSniffer.CheckComplete(format, tail.AsSpan(0, tailLength));
            return new StagedInput(target, Convert.ToHexStringLower(hash.GetHashAndReset()), total, format);
        }
        finally
        {
            if (owned)
            {
                await source.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>How errors name the input: the caller's file name or path as given, never the job's private copy.</summary>
    internal static string DisplayName(MediaRequest request) => request.FileName ?? request.FilePath ?? "the input";

    private static async Task<int> ReadHeaderAsync(Stream source, byte[] header, CancellationToken cancellationToken)
    {
        var length = 0;
        int read;
        while (length < header.Length && (read = await source.ReadAsync(header.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
        {
            length += read;
        }

        return length;
    }

    /// <summary>
    /// Checks a path from its metadata alone (nothing is opened): a directory, a missing file, anything that is not a
    /// regular file with content (pipes, sockets and devices report size 0; opening a FIFO would block forever), and a
    /// file over the size limit are refused. Returns the file's length.
    /// </summary>
    internal static long CheckRegularFile(string path, long maxBytes)
    {
        if (Directory.Exists(path))
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, $"'{path}' is a directory; give the path of a file in it.");
        }

        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, $"The file '{path}' does not exist.");
        }

        if (info.Length == 0)
        {
            throw new MediaException(MediaErrorCode.InvalidRequest,
                $"'{path}' is empty or is not a regular file (a pipe, socket or device); only regular files can be processed.");
        }

        if (info.Length > maxBytes)
        {
            throw TooLarge(path, maxBytes, info.Length);
        }

        return info.Length;
    }

    private static MediaException TooLarge(string name, long maxBytes, long? length = null) => new(MediaErrorCode.TooLarge,
        (length is { } l ? $"'{name}' is {l / (1024.0 * 1024):0.#} MiB, larger" : $"'{name}' is larger")
        + $" than the limit of {maxBytes / (1024.0 * 1024):0.#} MiB (Atlas:Media:MaxInputBytes).");

    private static MediaException Changed(string name) =>
        new(MediaErrorCode.InvalidRequest, $"'{name}' is not a regular file or changed while it was read.");

    private static void KeepTail(byte[] tail, ref int tailLength, ReadOnlySpan<byte> chunk)
    {
        if (chunk.Length >= tail.Length)
        {
            chunk[^tail.Length..].CopyTo(tail);
            tailLength = tail.Length;
            return;
        }

        var keep = Math.Min(tailLength, tail.Length - chunk.Length);
        tail.AsSpan(tailLength - keep, keep).CopyTo(tail);
        chunk.CopyTo(tail.AsSpan(keep));
        tailLength = keep + chunk.Length;
    }

    private static FileStream OpenRegularFile(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, $"The file '{path}' does not exist.", ex);
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(path))
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, $"'{path}' is a directory; give the path of a file in it.");
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new MediaException(MediaErrorCode.AccessDenied, $"The file '{path}' cannot be read: permission denied.", ex);
        }

        return stream;
    }
}
