using Shared.IO;

namespace Shared.Json;

/// <summary>
/// A read-only stream of JSON text (lines of a socket, a JSON body, an SSE stream) with lone surrogate escapes read as
/// U+FFFD as the bytes pass (<see cref="LoneSurrogates"/>): each byte is handed out as soon as it is settled, held back
/// only while an escape is cut off at the end of what has arrived. Lengths do not change.
/// </summary>
internal sealed class LoneSurrogateStream(Stream inner) : ForwardReadStreamOver(inner)
{
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start; // the first byte not yet handed out
    private int _settled; // the end of the bytes that may be handed out
    private int _end; // the end of the bytes read
    private bool _ended;

    /// <summary>Whether nothing settled is left to hand out, and the stream has not ended.</summary>
    private bool NeedsMore => _settled == _start && !(_ended && _start == _end);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (NeedsMore)
        {
            Filled(await Inner.ReadAsync(_buffer.AsMemory(Compact()), cancellationToken).ConfigureAwait(false));
        }

        return HandOut(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        while (NeedsMore)
        {
            Filled(Inner.Read(_buffer, Compact(), _buffer.Length - _end));
        }

        return HandOut(buffer.AsSpan(offset, count));
    }

    /// <summary>Moves what is left (an escape cut off at the end: a few bytes) to the front; where to read to.</summary>
    private int Compact()
    {
        _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
        _end -= _start;
        _start = 0;
        return _end;
    }

    private void Filled(int read)
    {
        _ended = read == 0;
        _end += read;
        LoneSurrogates.Replace(_buffer.AsSpan(0, _end), final: _ended, out _settled);
    }

    private int HandOut(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _settled - _start);
        _buffer.AsSpan(_start, count).CopyTo(destination);
        _start += count;
        return count;
    }
}
