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
