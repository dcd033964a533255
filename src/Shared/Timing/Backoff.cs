namespace Shared.Timing;

/// <summary>How much of a backoff delay is random.</summary>
internal enum BackoffJitter
{
    /// <summary>Anywhere from zero to the ceiling: spreads a crowd of clients the most (reconnecting phones).</summary>
    Full,

    /// <summary>From half the ceiling to the ceiling: never retries sooner than half the backoff (restarting a crashed
    /// server).</summary>
    Equal,
}

/// <summary>The one exponential backoff with jitter of the repository (compiled into each project that retries).</summary>
internal static class Backoff
{
    /// <summary>The delay before a retry: <paramref name="initial"/> doubled <paramref name="doublings"/> times, at most
    /// <paramref name="max"/> (the ceiling), with <paramref name="jitter"/>.</summary>
    /// <param name="doublings">How often the initial delay has doubled (0 for the first retry); negative counts as 0.</param>
    /// <param name="initial">The ceiling of the first retry.</param>
    /// <param name="max">The largest ceiling.</param>
    /// <param name="jitter">Full: within [0, ceiling]; equal: within [ceiling / 2, ceiling].</param>
    /// <returns>The delay.</returns>
    public static TimeSpan Delay(int doublings, TimeSpan initial, TimeSpan max, BackoffJitter jitter) =>
        Delay(doublings, initial, max, jitter, Random.Shared.NextDouble());

    /// <summary>As <see cref="Delay(int, TimeSpan, TimeSpan, BackoffJitter)"/> with the random draw given (tests).</summary>
    /// <param name="doublings">How often the initial delay has doubled (0 for the first retry); negative counts as 0.</param>
    /// <param name="initial">The ceiling of the first retry.</param>
    /// <param name="max">The largest ceiling.</param>
    /// <param name="jitter">Full: within [0, ceiling]; equal: within [ceiling / 2, ceiling].</param>
    /// <param name="sample">A uniform draw in [0, 1).</param>
    /// <returns>The delay.</returns>
    public static TimeSpan Delay(int doublings, TimeSpan initial, TimeSpan max, BackoffJitter jitter, double sample)
    {
        var ceiling = Math.Max(0, Math.Min(max.Ticks, initial.Ticks * Math.Pow(2, Math.Clamp(doublings, 0, 30))));
        var floor = jitter == BackoffJitter.Equal ? Math.Floor(ceiling / 2) : 0;
        return TimeSpan.FromTicks((long)(floor + (Math.Clamp(sample, 0, 1) * (ceiling - floor))));
    }
}
