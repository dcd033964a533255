using System.Text;
using System.Text.Json;
using Shared.Json;

namespace Mmcp.Client.Tests.Connectors;

/// <summary>Lone surrogate escapes in JSON text become <c>\ufffd</c> in place (src/Shared/Json/LoneSurrogates.cs, as compiled into Mmcp.Client).</summary>
public sealed class LoneSurrogatesTests
{
    [Theory]
    [InlineData("""{"t":"cut \ud83d"}""", """{"t":"cut \ufffd"}""")] // a high half at the end of a string
    [InlineData("""{"t":"\ude42 low first"}""", """{"t":"\ufffd low first"}""")] // a low half alone
    [InlineData("""{"t":"\uD83D\uD83D\uDE42"}""", """{"t":"\ufffd\uD83D\uDE42"}""")] // upper-case hex; two highs, then a pair
    [InlineData("""{"a":"\ud800","b":"x\udfff"}""", """{"a":"\ufffd","b":"x\ufffd"}""")] // several
    [InlineData("""{"t":"\ud83d\n\ude42"}""", """{"t":"\ufffd\n\ufffd"}""")] // another escape between the halves
    [Trait("Issue12", "fidelity")]
    public void Replace_LoneHalves_BecomeTheReplacementCharacter(string json, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        Assert.True(LoneSurrogates.Replace(bytes));

        Assert.Equal(expected, Encoding.UTF8.GetString(bytes));
        using var document = JsonDocument.Parse(bytes);
        Assert.Contains('\uFFFD', document.RootElement.EnumerateObject().First().Value.GetString()!);
    }

    [Theory]
    [InlineData("""{"t":"plain text"}""")]
    [InlineData("""{"t":"a pair \ud83d\ude42 and \u00e9"}""")]
    [InlineData("""{"t":"an escaped backslash then text: \\ud83d"}""")] // the text \ud83d, not an escape
    [InlineData("""{"t":"\\\\\ud83d\ude42"}""")] // two backslashes, then a pair
    [InlineData("""{"t":"a truncated escape \ud8""")] // not JSON: left for the parser to name
    [Trait("Issue12", "fidelity")]
    public void Replace_WithoutLoneHalves_ChangesNothing(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        Assert.False(LoneSurrogates.Replace(bytes));

        Assert.Equal(json, Encoding.UTF8.GetString(bytes));
        Assert.Equal(-1, LoneSurrogates.IndexOf(bytes));
    }

    [Fact]
    [Trait("Issue12", "fidelity")]
    public void Replaced_CopiesOnlyWhenThereIsSomethingToReplace()
    {
        ReadOnlyMemory<byte> clean = Encoding.UTF8.GetBytes("""{"t":"ok"}""");
        ReadOnlyMemory<byte> lone = Encoding.UTF8.GetBytes("""{"t":"\udc00"}""");

        Assert.True(LoneSurrogates.Replaced(clean).Span == clean.Span);
        Assert.Equal("""{"t":"\ufffd"}""", Encoding.UTF8.GetString(LoneSurrogates.Replaced(lone).Span));
        Assert.Equal("""{"t":"\udc00"}""", Encoding.UTF8.GetString(lone.Span)); // the original untouched
    }
}

/// <summary>The reading of a socket server's lines and a remote server's answers through <c>LoneSurrogateStream</c>.</summary>
public sealed class LoneSurrogateStreamTests
{
    private const string Sse = "event: message\ndata: {\"t\":\"cut \\ud83d\",\"p\":\"\\ud83d\\ude42\",\"b\":\"\\\\ud83d\",\"l\":\"\\ude42\"}\n\n";
    private const string Expected = "event: message\ndata: {\"t\":\"cut \\ufffd\",\"p\":\"\\ud83d\\ude42\",\"b\":\"\\\\ud83d\",\"l\":\"\\ufffd\"}\n\n";

    /// <summary>However the bytes arrive (one at a time, in pieces that cut every escape), what comes out is the same.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(4096)]
    [Trait("Issue12", "fidelity")]
    public async Task Read_InPiecesOfAnySize_ReplacesTheLoneHalvesOnly(int piece)
    {
        var pipe = new System.IO.Pipelines.Pipe();
        var bytes = Encoding.UTF8.GetBytes(Sse + Sse);
        for (var at = 0; at < bytes.Length; at += piece)
        {
            await pipe.Writer.WriteAsync(bytes.AsMemory(at, Math.Min(piece, bytes.Length - at)), TestContext.Current.CancellationToken);
        }

        await pipe.Writer.CompleteAsync();
        await using var stream = new LoneSurrogateStream(new OnePieceAtATime(pipe.Reader.AsStream(), piece));
        var output = new MemoryStream();
        await stream.CopyToAsync(output, TestContext.Current.CancellationToken);

        Assert.Equal(Expected + Expected, Encoding.UTF8.GetString(output.ToArray()));
    }

    /// <summary>An event whose last string ends in a high half is handed out whole while the stream stays open (nothing waits for bytes that may never come).</summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task Read_AnEventEndingInAHighHalf_IsHandedOutWithoutWaitingForMore()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        const string Event = "data: {\"t\":\"\\ud83d\"}\n\n";
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(Event), TestContext.Current.CancellationToken);
        await using var stream = new LoneSurrogateStream(pipe.Reader.AsStream());

        var buffer = new byte[256];
        var read = 0;
        while (read < Event.Length)
        {
            read += await stream.ReadAsync(buffer.AsMemory(read), TestContext.Current.CancellationToken).AsTask().WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        }

        Assert.Equal("data: {\"t\":\"\\ufffd\"}\n\n", Encoding.UTF8.GetString(buffer, 0, read));
        await pipe.Writer.CompleteAsync();
        Assert.Equal(0, await stream.ReadAsync(buffer, TestContext.Current.CancellationToken));
    }

    /// <summary>A stream that hands out at most a piece per read.</summary>
    private sealed class OnePieceAtATime(Stream inner, int piece) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer[..Math.Min(piece, buffer.Length)], cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(piece, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
