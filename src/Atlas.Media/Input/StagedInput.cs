using System.Security.Cryptography;

namespace Atlas.Media.Input;

/// <summary>
/// The input copied into the job's private directory while it is hashed and checked: tools only ever see this copy,
/// named by us, so the caller's file changing or being a symlink later cannot affect the job.
/// </summary>
internal sealed record StagedInput(string Path, string Sha256, long Length, SniffedFormat Format)
{
    public static async Task<StagedInput> StageAsync(MediaRequest request, string directory, long maxBytes, CancellationToken cancellationToken)
    {
        Stream source;
        var owned = false;
        var expectedLength = -1L;
        if (request.FilePath is { } filePath)
        {
            var file = OpenRegularFile(filePath);
            source = file;
            owned = true;
            expectedLength = file.Length;
        }
        else
        {
            source = request.Content!;
        }

        var target = System.IO.Path.Combine(directory, "input");
        var header = new byte[ContentSniffer.HeaderLength];
        var headerLength = 0;
        var tail = new byte[64];
        var tailLength = 0;
        long total = 0;
        try
        {
            await using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
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
                        throw new MediaException(MediaErrorCode.InvalidRequest,
                            $"'{request.FilePath}' is not a regular file or changed while it was read.");
                    }

                    if (total > maxBytes)
                    {
                        throw new MediaException(MediaErrorCode.TooLarge,
                            $"The file is larger than the limit of {maxBytes / (1024.0 * 1024):0.#} MiB (Atlas:Media:MaxInputBytes).");
                    }

                    var chunk = buffer.AsSpan(0, read);
                    hash.AppendData(chunk);
                    if (headerLength < header.Length)
                    {
                        var n = Math.Min(header.Length - headerLength, read);
                        chunk[..n].CopyTo(header.AsSpan(headerLength));
                        headerLength += n;
                    }

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
        catch (UnauthorizedAccessException ex)
        {
            throw new MediaException(MediaErrorCode.AccessDenied, $"The file '{path}' cannot be read: permission denied.", ex);
        }

        return stream;
    }
}
