using Atlas.Desktop.Chat.Llm;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>The provider's <c>Retry-After</c> header read as a delay, against the desktop's clock.</summary>
public sealed class ProviderRetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>An HTTP-date Retry-After is measured from the injected clock, not the machine's wall clock.</summary>
    [Fact]
    [Trait("Issue13", "banned-apis")]
    public void ParseRetryAfter_HttpDate_MeasuredFromTheInjectedClock()
    {
        var at = Now.AddSeconds(30).ToString("R", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(TimeSpan.FromSeconds(30), ProviderRetryPolicy.ParseRetryAfter(at, Now));
    }

    /// <summary>Seconds, past dates, absurd waits and garbage give the delay the header means, clamped to a day.</summary>
    [Theory]
    [Trait("Issue13", "banned-apis")]
    [InlineData("12", 12.0)]
    [InlineData("0", 0.0)]
    [InlineData("999999", 86_400.0)]
    [InlineData("Tue, 01 Jan 2030 00:00:00 GMT", 0.0)]
    [InlineData("soon", null)]
    [InlineData("", null)]
    public void ParseRetryAfter_Value_GivesTheClampedDelay(string value, double? seconds)
    {
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, ProviderRetryPolicy.ParseRetryAfter(value, Now));
    }
}
