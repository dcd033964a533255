namespace Shared.IO;

/// <summary>
/// A stream that is only read, front to back: what every such stream answers about seeking, length, position and
/// writing, said once. A subclass implements the reads (at least <see cref="Stream.Read(byte[], int, int)"/>).
/// </summary>
internal abstract class ForwardReadStream : Stream
{
    public sealed override bool CanRead => true;

    public sealed override bool CanSeek => false;

    public sealed override bool CanWrite => false;

    public sealed override long Length => throw new NotSupportedException();

    public sealed override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public sealed override void SetLength(long value) => throw new NotSupportedException();

    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// A stream that is only written, front to back: what every such stream answers about seeking, length, position and
/// reading, said once. A subclass implements the writes (at least <see cref="Stream.Write(byte[], int, int)"/>) and
/// <see cref="Stream.Flush"/>.
/// </summary>
internal abstract class ForwardWriteStream : Stream
{
    public sealed override bool CanRead => false;

    public sealed override bool CanSeek => false;

    public sealed override bool CanWrite => true;

    public sealed override long Length => throw new NotSupportedException();

    public sealed override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public sealed override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public sealed override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>
/// A <see cref="ForwardReadStream"/> that reads another stream and owns it: disposing this stream disposes
/// <see cref="Inner"/>.
/// </summary>
internal abstract class ForwardReadStreamOver(Stream inner) : ForwardReadStream
{
    /// <summary>The stream read from.</summary>
    protected Stream Inner => inner;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
