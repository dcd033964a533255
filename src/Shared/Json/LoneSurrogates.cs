namespace Shared.Json;

/// <summary>
/// Escapes of lone surrogates in JSON text (<c>\ud83d</c> with no low half after it, or a low half alone). JSON allows
/// them, and a JavaScript peer writes one whenever it cuts a string inside a character outside the BMP, but they are
/// not Unicode text: System.Text.Json refuses to read or write them, so one such escape would fail the whole message.
/// MCP messages are UTF-8, which cannot encode a lone surrogate; the hub reads one as U+FFFD, as a UTF-8 decoder reads an
/// ill-formed sequence. The replacement <c>\ufffd</c> is as long as the escape it replaces, so a message is fixed in
/// place and keeps its length.
/// </summary>
internal static class LoneSurrogates
{
    private const int EscapeLength = 6; // \uXXXX

    /// <summary>Where the first escape of a lone surrogate starts, or -1 (the common case: one vectorized search for a backslash).</summary>
    public static int IndexOf(ReadOnlySpan<byte> json)
    {
        var at = json.IndexOf((byte)'\\');
        if (at < 0)
        {
            return -1;
        }

        while (at < json.Length - 1)
        {
            if (json[at] != (byte)'\\')
            {
                var next = json[at..].IndexOf((byte)'\\');
                if (next < 0)
                {
                    return -1;
                }

                at += next;
                continue;
            }

            if (json[at + 1] != (byte)'u' || !TryUnit(json, at + 2, out var unit))
            {
                at += 2; // another escape (\\ included), or a malformed one the parser will name
                continue;
            }

            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                var low = at + EscapeLength;
                if (low + 1 < json.Length && json[low] == (byte)'\\' && json[low + 1] == (byte)'u' && TryUnit(json, low + 2, out var second) && second is >= 0xDC00 and <= 0xDFFF)
                {
                    at = low + EscapeLength; // a pair: one character
                    continue;
                }

                return at;
            }

            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                return at;
            }

            at += EscapeLength;
        }

        return -1;
    }

    /// <summary>Replaces every escape of a lone surrogate by <c>\ufffd</c>, in place; whether there was one.</summary>
    public static bool Replace(Span<byte> json)
    {
        var replaced = false;
        var from = 0;
        int at;
        while ((at = IndexOf(json[from..])) >= 0)
        {
            "\\ufffd"u8.CopyTo(json[(from + at)..]);
            from += at + EscapeLength;
            replaced = true;
        }

        return replaced;
    }

    /// <summary>The message itself when it has no lone surrogate, else a copy with each one replaced.</summary>
    public static ReadOnlyMemory<byte> Replaced(ReadOnlyMemory<byte> json)
    {
        if (IndexOf(json.Span) < 0)
        {
            return json;
        }

        var copy = json.ToArray();
        Replace(copy);
        return copy;
    }

    private static bool TryUnit(ReadOnlySpan<byte> json, int from, out int unit)
    {
        unit = 0;
        if (from + 4 > json.Length)
        {
            return false;
        }

        for (var i = from; i < from + 4; i++)
        {
            var digit = json[i] switch
            {
                >= (byte)'0' and <= (byte)'9' => json[i] - '0',
                >= (byte)'a' and <= (byte)'f' => json[i] - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => json[i] - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            unit = (unit << 4) | digit;
        }

        return true;
    }
}
