using Microsoft.Extensions.Time.Testing;
using Mmcp.Client.Lifecycle;

namespace Mmcp.Client.Tests.Lifecycle;

/// <summary>Attempt counting, the delay with jitter, and the resets of the restart back-off.</summary>
public sealed class RestartBackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Stable = TimeSpan.FromMinutes(2);

    /// <summary>The wait after each failure in a row: none after the first, then doubling within [ceiling / 2, ceiling] up to the maximum.</summary>
    [Theory]
    [Trait("Issue13", "rooms")]
    [InlineData(1, 0.0, 0)]
    [InlineData(1, 0.99, 0)]
    [InlineData(2, 0.0, 500)]
    [InlineData(2, 0.5, 750)]
    [InlineData(3, 0.0, 1000)]
    [InlineData(4, 0.5, 3000)]
    [InlineData(8, 0.0, 30000)]
    [InlineData(9, 0.0, 30000)]
    [InlineData(20, 0.5, 45000)]
    public void RecordFailure_NthFailureInARow_WaitsTheBackoff(int failures, double sample, int expectedMs)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var backoff = new RestartBackoff(Initial, Max, Stable, time, () => sample);

        for (var i = 0; i < failures; i++)
        {
            backoff.RecordFailure();
        }

        Assert.Equal(failures, backoff.ConsecutiveFailures);
        Assert.Equal(expectedMs > 0, backoff.IsBackingOff(out var remaining));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), remaining);
        Assert.Equal(expectedMs > 0 ? time.GetUtcNow() + remaining : null, backoff.RetryAt);
    }

    /// <summary>The wait ends when the clock passes it.</summary>
    [Fact]
    [Trait("Issue13", "rooms")]
    public void IsBackingOff_AfterTheDelay_False()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var backoff = new RestartBackoff(Initial, Max, Stable, time, () => 1.0);
        backoff.RecordFailure();
        backoff.RecordFailure();

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.True(backoff.IsBackingOff(out var remaining));
        Assert.Equal(TimeSpan.FromMilliseconds(1), remaining);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(backoff.IsBackingOff(out _));
        Assert.Equal(2, backoff.ConsecutiveFailures);
    }

    /// <summary>How the count goes on after a connection: a crash soon after continues it, one after the stable uptime starts over, and a success or a forgiven failure lowers it.</summary>
    [Theory]
    [Trait("Issue13", "rooms")]
    [InlineData("fail fail connect up:1m fail", 3)]
    [InlineData("fail fail connect up:2m fail", 1)]
    [InlineData("fail fail connect up:3m fail fail", 2)]
    [InlineData("fail fail up:3m fail", 3)]
    [InlineData("fail fail fail reset", 0)]
    [InlineData("fail fail reset fail", 1)]
    [InlineData("fail fail fail forgive", 2)]
    [InlineData("forgive", 0)]
    [InlineData("fail connect fail connect fail", 3)]
    public void Count_AfterSteps_IsExpected(string steps, int expected)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var backoff = new RestartBackoff(Initial, Max, Stable, time, () => 0.5);

        foreach (var step in steps.Split(' '))
        {
            switch (step.Split(':'))
            {
                case ["fail"]:
                    backoff.RecordFailure();
                    break;
                case ["connect"]:
                    backoff.Connected();
                    Assert.Null(backoff.RetryAt);
                    break;
                case ["up", var minutes]:
                    time.Advance(TimeSpan.FromMinutes(int.Parse(minutes.TrimEnd('m'), System.Globalization.CultureInfo.InvariantCulture)));
                    break;
                case ["reset"]:
                    backoff.Reset();
                    break;
                case ["forgive"]:
                    backoff.Forgive();
                    break;
                default:
                    throw new ArgumentException(step, nameof(steps));
            }
        }

        Assert.Equal(expected, backoff.ConsecutiveFailures);
        Assert.Equal(expected >= 2, backoff.RetryAt is not null);
    }
}
