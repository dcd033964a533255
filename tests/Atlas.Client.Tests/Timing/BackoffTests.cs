using Shared.Timing;

namespace Atlas.Client.Tests.Timing;

/// <summary>The one backoff with jitter (src/Shared/Timing/Backoff.cs), as compiled into Atlas.Client.</summary>
public sealed class BackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(10);

    /// <summary>Full jitter stays within [0, ceiling], the ceiling doubling per step up to the maximum.</summary>
    [Theory]
    [Trait("Issue13", "backoff")]
    [InlineData(0, 250)]
    [InlineData(1, 500)]
    [InlineData(3, 2000)]
    [InlineData(5, 8000)]
    [InlineData(6, 10000)]
    [InlineData(40, 10000)]
    [InlineData(-3, 250)]
    public void Delay_FullJitter_WithinZeroAndCeiling(int doublings, int ceilingMs)
    {
        var ceiling = TimeSpan.FromMilliseconds(ceilingMs);

        Assert.Equal(TimeSpan.Zero, Backoff.Delay(doublings, Initial, Max, BackoffJitter.Full, sample: 0));
        Assert.InRange(Backoff.Delay(doublings, Initial, Max, BackoffJitter.Full, sample: 0.999_999), ceiling * 0.999, ceiling);
        for (var i = 0; i < 200; i++)
        {
            Assert.InRange(Backoff.Delay(doublings, Initial, Max, BackoffJitter.Full), TimeSpan.Zero, ceiling);
        }
    }

    /// <summary>Equal jitter never goes below half the ceiling nor above it.</summary>
    [Theory]
    [Trait("Issue13", "backoff")]
    [InlineData(0, 250)]
    [InlineData(2, 1000)]
    [InlineData(30, 10000)]
    public void Delay_EqualJitter_WithinHalfAndCeiling(int doublings, int ceilingMs)
    {
        var ceiling = TimeSpan.FromMilliseconds(ceilingMs);

        Assert.Equal(ceiling / 2, Backoff.Delay(doublings, Initial, Max, BackoffJitter.Equal, sample: 0));
        for (var i = 0; i < 200; i++)
        {
            Assert.InRange(Backoff.Delay(doublings, Initial, Max, BackoffJitter.Equal), ceiling / 2, ceiling);
        }
    }

    /// <summary>A zero delay (tests, or backoff switched off) stays zero whatever the jitter.</summary>
    [Fact]
    [Trait("Issue13", "backoff")]
    public void Delay_ZeroInitial_Zero()
    {
        Assert.Equal(TimeSpan.Zero, Backoff.Delay(5, TimeSpan.Zero, TimeSpan.Zero, BackoffJitter.Equal, sample: 0.5));
        Assert.Equal(TimeSpan.Zero, Backoff.Delay(5, TimeSpan.Zero, Max, BackoffJitter.Full, sample: 0.5));
    }
}
