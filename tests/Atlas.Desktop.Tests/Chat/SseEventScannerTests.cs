using System.Text;
using Atlas.Desktop.Chat.Llm;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>The SSE event scanner over every way the network may cut a stream and every line ending the format allows.</summary>
public sealed class SseEventScannerTests
{
    // Comments, an event type, several data lines (one without a colon), a blank-line boundary without data, multi-byte
    // UTF-8, [DONE], and an unterminated event at the end (never dispatched). "\n" is replaced by each line ending.
    private const string Template =
        ": OPENROUTER PROCESSING\n\n"
        + "data: {\"a\":1}\n\n"
        + "event: delta\ndata: first\ndata:second\ndata\n\n"
        + "id: 7\nretry: 10\n\n"
        + ": keep-alive\ndata: é ü 🙂\n\n"
        + "data: [DONE]\n\n"
        + "data: unterminated";

    private static readonly (string? Type, string Data)[] Expected =
    [
        (null, "{\"a\":1}"),
        ("delta", "first\nsecond\n"),
        (null, "é ü 🙂"),
        (null, "[DONE]"),
    ];

    private const int ExpectedBoundaries = 6;

    /// <summary>Split into two reads at every byte position, the scanner finds the same events and boundaries.</summary>
    [Theory]
    [Trait("Issue13", "sse-scanner")]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void TryScan_TwoReadsSplitAtEveryPosition_FindsTheSameEvents(string lineEnding)
    {
        var bytes = Encoding.UTF8.GetBytes(Template.Replace("\n", lineEnding, StringComparison.Ordinal));
        for (var split = 0; split <= bytes.Length; split++)
        {
            var (events, boundaries) = Scan([bytes[..split], bytes[split..]]);

            Assert.True(Expected.SequenceEqual(events), $"line ending {Escape(lineEnding)}, split at {split}: {string.Join(" | ", events)}");
            Assert.Equal(ExpectedBoundaries, boundaries);
        }
    }

    /// <summary>Fed one byte per read (every CRLF split, every UTF-8 character cut), the scanner finds the same events.</summary>
    [Theory]
    [Trait("Issue13", "sse-scanner")]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void TryScan_OneByteAtATime_FindsTheSameEvents(string lineEnding)
    {
        var bytes = Encoding.UTF8.GetBytes(Template.Replace("\n", lineEnding, StringComparison.Ordinal));

        var (events, boundaries) = Scan([.. bytes.Select(b => new[] { b })]);

        Assert.Equal(Expected, events);
        Assert.Equal(ExpectedBoundaries, boundaries);
    }

    /// <summary>Line endings mixed within one stream (CR then LF in the next read is one line end, not two).</summary>
    [Fact]
    [Trait("Issue13", "sse-scanner")]
    public void TryScan_MixedLineEndingsAndCrLfAcrossReads_IsOneLineEnd()
    {
        var (events, boundaries) = Scan(["data: a\r", "\ndata: b\n\r", "\ndata: c\r\r\n", "data: d\n\n"]);

        Assert.Equal(new (string?, string)[] { (null, "a\nb"), (null, "c"), (null, "d") }, events);
        Assert.Equal(3, boundaries);
    }

    /// <summary>The bytes taken up to a boundary end exactly after the blank line, so a reader can release whole events.</summary>
    [Fact]
    [Trait("Issue13", "sse-scanner")]
    public void TryScan_AtABoundary_ConsumesUpToTheBlankLineOnly()
    {
        var scanner = new SseEventScanner();
        var bytes = "data: x\r\n\r\ndata: y"u8.ToArray();

        Assert.True(scanner.TryScan(bytes, out var consumed, out var first));
        Assert.Equal(11, consumed);
        Assert.Equal("x", Encoding.UTF8.GetString(first.Data.Span));
        Assert.False(scanner.TryScan(bytes.AsSpan(consumed), out var rest, out _));
        Assert.Equal(bytes.Length - consumed, rest);
    }

    private static (List<(string? Type, string Data)> Events, int Boundaries) Scan(IEnumerable<string> pieces) =>
        Scan(pieces.Select(Encoding.UTF8.GetBytes));

    private static (List<(string? Type, string Data)> Events, int Boundaries) Scan(IEnumerable<byte[]> pieces)
    {
        var scanner = new SseEventScanner();
        var events = new List<(string? Type, string Data)>();
        var boundaries = 0;
        foreach (var piece in pieces)
        {
            var offset = 0;
            while (offset < piece.Length && scanner.TryScan(piece.AsSpan(offset), out var consumed, out var sseEvent))
            {
                offset += consumed;
                boundaries++;
                if (sseEvent.HasData)
                {
                    events.Add((sseEvent.Type, Encoding.UTF8.GetString(sseEvent.Data.Span)));
                }
            }
        }

        return (events, boundaries);
    }

    private static string Escape(string text) => text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
