using Mmcp.Gateway.Fronts;
using Shared.IO;

namespace Mmcp.Server.Sockets;

/// <summary>
/// What the SDK's stream transport writes to a connection: held until its newline, then written as one whole line and
/// noted in <see cref="UnansweredRequests"/> as answered (an answer counts once it is on its way to the client, not
/// before). The SDK serializes its writes, so no lock is needed here.
/// </summary>
internal sealed class ConnectionOutput(Stream inner, UnansweredRequests unanswered) : ForwardWriteStream
{
    private readonly MemoryStream _pending = new();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _pending.Write(buffer.Span);
        if (buffer.Span.IndexOf((byte)'\n') < 0)
        {
            return;
        }

        try
        {
            await inner.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), cancellationToken).ConfigureAwait(false);
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            unanswered.WrittenLines(_pending.GetBuffer().AsSpan(0, (int)_pending.Length));
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            unanswered.Abandon(); // the client no longer reads: nothing more reaches it
            throw;
        }
        finally
        {
            _pending.SetLength(0);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>The SDK writes asynchronously.</summary>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pending.Dispose();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        _pending.Dispose();
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
