using System.Buffers;
using System.Text.Json;
using Mmcp.Gateway.Fronts;
using Shared.IO;

namespace Mmcp.Server.Sockets;

/// <summary>
/// What the SDK's stream transport reads from a connection: the client's bytes as they come, with each whole line
/// noted in <see cref="UnansweredRequests"/> before the SDK can see it; at the end of the input the read waits for
/// <c>inputEnded</c> (the answers to what is in flight) before it reports the end, because the SDK's transport sends
/// nothing once its input ended.
/// </summary>
internal sealed class ConnectionInput(Stream inner, UnansweredRequests unanswered, Func<CancellationToken, Task> inputEnded) : ForwardReadStreamOver(inner)
{
    private readonly ArrayBufferWriter<byte> _partial = new(); // the start of a line whose newline has not come yet
    private bool _ended;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ended)
        {
            return 0;
        }

        var read = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read > 0)
        {
            Note(buffer.Span[..read]);
            return read;
        }

        _ended = true;
        await inputEnded(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>The SDK reads asynchronously; the end of the input can only be awaited.</summary>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Notes every line the bytes complete (a request to answer, a cancellation).</summary>
    private void Note(ReadOnlySpan<byte> bytes)
    {
        while (bytes.IndexOf((byte)'\n') is var newline and >= 0)
        {
            if (_partial.WrittenCount == 0)
            {
                NoteLine(bytes[..newline]);
            }
            else
            {
                _partial.Write(bytes[..newline]);
                NoteLine(_partial.WrittenSpan);
                _partial.ResetWrittenCount();
            }

            bytes = bytes[(newline + 1)..];
        }

        _partial.Write(bytes);
    }

    private void NoteLine(ReadOnlySpan<byte> line)
    {
        if (line.Trim(" \t\r"u8).IsEmpty)
        {
            return;
        }

        try
        {
            var reader = new Utf8JsonReader(line);
            using var message = JsonDocument.ParseValue(ref reader);
            unanswered.Read(message.RootElement);
        }
        catch (JsonException)
        {
            // Not JSON: the SDK answers it with no id to wait for, or not at all.
        }
    }
}
