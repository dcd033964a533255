using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Atlas.Desktop.Files;

/// <summary>SHA-256 of a request body as it is read, so a change sent again under the same Idempotency-Key can be told
/// from another change under that key. A multipart body is hashed with its boundary masked: a client that builds the same
/// form again gets a new random boundary, and that is still the same change.</summary>
internal sealed class BodyDigest : IDisposable
{
    private const int BufferBytes = 64 * 1024;
    private static readonly byte[] BoundaryMark = "\0boundary\0"u8.ToArray();

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[]? _boundary;
    private byte[] _pending = [];

    private BodyDigest(byte[]? boundary)
    {
        _boundary = boundary;
    }

    /// <summary>A digest for the body of <paramref name="request"/> (its multipart boundary, if any, masked).</summary>
    public static BodyDigest For(HttpRequest request)
    {
        var boundary = MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            && type.MediaType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase)
            ? HeaderUtilities.RemoveQuotes(type.Boundary).Value
            : null;
        return new BodyDigest(string.IsNullOrEmpty(boundary) ? null : System.Text.Encoding.ASCII.GetBytes(boundary));
    }

    /// <summary>Wraps <paramref name="body"/> so every byte read from it is hashed.</summary>
    public Stream Watch(Stream body) => new HashingStream(body, this);

    /// <summary>Reads <paramref name="body"/> to its end into the digest.</summary>
    public async Task ReadToEndAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, BufferBytes), cancellationToken).ConfigureAwait(false)) > 0)
            {
                Append(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The digest of everything read so far (hex).</summary>
    public string Finish()
    {
        _hash.AppendData(_pending);
        _pending = [];
        return Convert.ToHexString(_hash.GetHashAndReset());
    }

    public void Dispose() => _hash.Dispose();

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_boundary is null)
        {
            _hash.AppendData(data);
            return;
        }

        // The boundary may straddle two reads: the last (boundary length - 1) bytes wait for the next read.
        var buffer = new byte[_pending.Length + data.Length];
        _pending.CopyTo(buffer, 0);
        data.CopyTo(buffer.AsSpan(_pending.Length));
        var start = 0;
        int at;
        while ((at = buffer.AsSpan(start).IndexOf(_boundary)) >= 0)
        {
            _hash.AppendData(buffer.AsSpan(start, at));
            _hash.AppendData(BoundaryMark);
            start += at + _boundary.Length;
        }

        var keep = Math.Min(_boundary.Length - 1, buffer.Length - start);
        _hash.AppendData(buffer.AsSpan(start, buffer.Length - start - keep));
        _pending = buffer[(buffer.Length - keep)..];
    }

    private sealed class HashingStream(Stream inner, BodyDigest digest) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            digest.Append(buffer.AsSpan(offset, read));
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            digest.Append(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
