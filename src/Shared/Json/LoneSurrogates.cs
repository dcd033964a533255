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
    public static int IndexOf(ReadOnlySpan<byte> json) => Next(json, 0, final: true, out _);

    /// <summary>Replaces every escape of a lone surrogate by <c>\ufffd</c>, in place; whether there was one.</summary>
    public static bool Replace(Span<byte> json) => Replace(json, final: true, out _);

    /// <summary>
    /// The same for a part of a stream: replaces what can be decided from these bytes, and says how many of them are
    /// settled; the rest (an escape cut off at the end, or a high half whose next escape may follow) waits for more bytes,
    /// or for <paramref name="final"/>.
    /// </summary>
    public static bool Replace(Span<byte> json, bool final, out int settled)
    {
        var replaced = false;
        var from = 0;
        int at;
        while ((at = Next(json, from, final, out var pending)) >= 0)
        {
            if (pending)
            {
                settled = at;
                return replaced;
            }

            "\\ufffd"u8.CopyTo(json[at..]);
            from = at + EscapeLength;
            replaced = true;
        }

        settled = json.Length;
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

    /// <summary>
    /// The start of the next lone surrogate escape at or after <paramref name="at"/>, or -1; when not
    /// <paramref name="final"/>, <paramref name="pending"/> marks an escape the bytes end too soon to decide.
    /// </summary>
    private static int Next(ReadOnlySpan<byte> json, int at, bool final, out bool pending)
    {
        pending = false;
        while (true)
        {
            var next = json[at..].IndexOf((byte)'\\');
            if (next < 0)
            {
                return -1;
            }

            at += next;
            if (at + 1 >= json.Length || (json[at + 1] == (byte)'u' && at + EscapeLength > json.Length))
            {
                pending = !final; // cut off at the end: more may come; if not, the parser names what is wrong
                return pending ? at : -1;
            }

            if (json[at + 1] != (byte)'u' || !TryUnit(json, at + 2, out var unit))
            {
                at += 2; // another escape (\\ included), or a malformed one the parser will name
                continue;
            }

            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                return at;
            }

            if (unit is < 0xD800 or > 0xDBFF)
            {
                at += EscapeLength;
                continue;
            }

            var low = at + EscapeLength;
            if (!final && low + EscapeLength > json.Length && MayStartLowHalf(json[low..]))
            {
                pending = true; // a high half at the end, and what follows may be the start of its low half
                return at;
            }

            if (low + 1 < json.Length && json[low] == (byte)'\\' && json[low + 1] == (byte)'u' && TryUnit(json, low + 2, out var second) && second is >= 0xDC00 and <= 0xDFFF)
            {
                at = low + EscapeLength; // a pair: one character
                continue;
            }

            return at;
        }
    }

    /// <summary>Whether bytes cut off at the end may begin <c>\uDC00</c>–<c>\uDFFF</c>: so a stream waits only when it must.</summary>
    private static bool MayStartLowHalf(ReadOnlySpan<byte> rest) =>
        (rest.Length < 1 || rest[0] == (byte)'\\')
        && (rest.Length < 2 || rest[1] == (byte)'u')
        && (rest.Length < 3 || rest[2] is (byte)'d' or (byte)'D')
        && (rest.Length < 4 || rest[3] is (>= (byte)'c' and <= (byte)'f') or (>= (byte)'C' and <= (byte)'F'));

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
