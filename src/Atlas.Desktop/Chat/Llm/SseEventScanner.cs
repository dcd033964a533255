using System.Buffers;
using System.Text;

namespace Atlas.Desktop.Chat.Llm;

/// <summary>One server-sent event as the scanner found it at a blank line.</summary>
/// <param name="Type">The <c>event</c> field, or null when the event named none (the default type, <c>message</c>).</param>
/// <param name="Data">The <c>data</c> lines joined with LF; valid until the next call to the scanner.</param>
/// <param name="HasData">False for a blank line that ends no data (the event is then not dispatched, per the SSE rules).</param>
internal readonly record struct SseEvent(string? Type, ReadOnlyMemory<byte> Data, bool HasData);

/// <summary>Turns the bytes of a <c>text/event-stream</c> body into events, in whatever pieces the network delivers
/// them: lines end with LF, CRLF or CR (a CRLF split across two reads is one line end), <c>:</c> lines are comments,
/// several <c>data</c> lines make one event joined with LF, one space after the colon is dropped, unknown fields are
/// ignored, and a blank line ends the event. A partial line is kept until its end arrives; callers bound how much
/// they feed without a blank line.</summary>
internal sealed class SseEventScanner
{
    private const byte Cr = (byte)'\r';
    private const byte Lf = (byte)'\n';
    private readonly ArrayBufferWriter<byte> _line = new();
    private readonly ArrayBufferWriter<byte> _data = new();
    private bool _hasData;
    private string? _type;
    private bool _afterCr;
    private bool _dispatched;

    /// <summary>Scans <paramref name="bytes"/> (the next bytes of the stream) up to the first blank line.</summary>
    /// <param name="bytes">The next bytes; those before <paramref name="consumed"/> are taken, the rest must be passed again.</param>
    /// <param name="consumed">How many bytes were taken: up to and including the blank line's end when true, all when false.</param>
    /// <param name="sseEvent">At a blank line, the event it ends (<see cref="SseEvent.HasData"/> false when none).</param>
    /// <returns>True at a blank line (an event boundary), false when every byte was taken and no blank line came.</returns>
    public bool TryScan(ReadOnlySpan<byte> bytes, out int consumed, out SseEvent sseEvent)
    {
        if (_dispatched)
        {
            _dispatched = false;
            _data.ResetWrittenCount();
        }

        sseEvent = default;
        consumed = 0;
        if (_afterCr && !bytes.IsEmpty)
        {
            // The CR that ended the last read's line and this LF are one line end.
            _afterCr = false;
            if (bytes[0] == Lf)
            {
                consumed = 1;
            }
        }

        while (consumed < bytes.Length)
        {
            var rest = bytes[consumed..];
            var index = rest.IndexOfAny(Cr, Lf);
            if (index < 0)
            {
                _line.Write(rest);
                consumed = bytes.Length;
                return false;
            }

            var end = 1;
            if (rest[index] == Cr)
            {
                if (index + 1 < rest.Length)
                {
                    end = rest[index + 1] == Lf ? 2 : 1;
                }
                else
                {
                    _afterCr = true;
                }
            }

            ReadOnlySpan<byte> line;
            if (_line.WrittenCount == 0)
            {
                line = rest[..index];
            }
            else
            {
                _line.Write(rest[..index]);
                line = _line.WrittenSpan;
            }

            consumed += index + end;
            if (line.IsEmpty)
            {
                sseEvent = new SseEvent(_type, _hasData ? _data.WrittenMemory : ReadOnlyMemory<byte>.Empty, _hasData);
                _hasData = false;
                _type = null;
                _dispatched = true;
                return true;
            }

            Field(line);
            _line.ResetWrittenCount();
        }

        return false;
    }

    private void Field(ReadOnlySpan<byte> line)
    {
        if (line[0] == (byte)':')
        {
            return; // a comment, e.g. ": OPENROUTER PROCESSING"
        }

        var colon = line.IndexOf((byte)':');
        var name = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? [] : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        if (name.SequenceEqual("data"u8))
        {
            if (_hasData)
            {
                _data.Write([Lf]);
            }

            _data.Write(value);
            _hasData = true;
        }
        else if (name.SequenceEqual("event"u8))
        {
            _type = Encoding.UTF8.GetString(value);
        }
    }
}
