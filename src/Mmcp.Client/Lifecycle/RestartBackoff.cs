using Shared.Timing;

namespace Mmcp.Client.Lifecycle;

/// <summary>
/// When the hub may try a failing server again: counts failures in a row, lets a single failure retry at once, then
/// waits an exponential delay with equal jitter (<see cref="Backoff"/>). A success resets the count, and so does a
/// connection that stayed up for the stable uptime before it failed (it was no crash loop). Not thread-safe: the
/// session calls it under its lock.
/// </summary>
internal sealed class RestartBackoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly TimeSpan _stableUptime;
    private readonly TimeProvider _time;
    private readonly Func<double> _sample;
    private int _consecutiveFailures;
    private DateTimeOffset? _upSince;

    /// <summary>Initializes a new instance of the <see cref="RestartBackoff"/> class.</summary>
    /// <param name="initial">The ceiling of the first delay (<see cref="MmcpHubOptions.RestartBackoff"/>).</param>
    /// <param name="max">The largest ceiling (<see cref="MmcpHubOptions.MaxRestartBackoff"/>).</param>
    /// <param name="stableUptime">How long a connection must stay up for its failure to start a new count.</param>
    /// <param name="time">The clock.</param>
    /// <param name="sample">The random draw in [0, 1) for the jitter; <see langword="null"/> for <see cref="Random.Shared"/>.</param>
    public RestartBackoff(TimeSpan initial, TimeSpan max, TimeSpan stableUptime, TimeProvider time, Func<double>? sample = null)
    {
        _initial = initial;
        _max = max;
        _stableUptime = stableUptime;
        _time = time;
        _sample = sample ?? Random.Shared.NextDouble;
    }

    /// <summary>Gets how many failures in a row counted towards the back-off.</summary>
    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>Gets when the next attempt may start, or <see langword="null"/> when it may start at once.</summary>
    public DateTimeOffset? RetryAt { get; private set; }

    /// <summary>Whether the next attempt must wait.</summary>
    /// <param name="remaining">How long it must wait.</param>
    /// <returns><see langword="true"/> while backing off.</returns>
    public bool IsBackingOff(out TimeSpan remaining)
    {
        var now = _time.GetUtcNow();
        remaining = RetryAt is { } at && at > now ? at - now : TimeSpan.Zero;
        return remaining > TimeSpan.Zero;
    }

    /// <summary>Records a failure that counts towards the back-off and sets when the next attempt may start.</summary>
    public void RecordFailure()
    {
        var now = _time.GetUtcNow();
        if (_upSince is { } since && now - since >= _stableUptime)
        {
            _consecutiveFailures = 0;
        }

        _upSince = null;
        _consecutiveFailures++;

        // A single failure never delays the next attempt; after that, exponential backoff with equal jitter.
        RetryAt = _consecutiveFailures < 2 ? null : now + Backoff.Delay(_consecutiveFailures - 2, _initial, _max, BackoffJitter.Equal, _sample());
    }

    /// <summary>Takes back one counted failure (a lost session that the watcher counted as a crash: a new session cures it).</summary>
    public void Forgive()
    {
        if (_consecutiveFailures > 0)
        {
            _consecutiveFailures--;
            if (_consecutiveFailures < 2)
            {
                RetryAt = null;
            }
        }
    }

    /// <summary>Records that a connection is up: the next attempt need not wait, and its uptime starts.</summary>
    public void Connected()
    {
        RetryAt = null;
        _upSince = _time.GetUtcNow();
    }

    /// <summary>Records a success (or a new definition): the count starts over.</summary>
    public void Reset()
    {
        _consecutiveFailures = 0;
        RetryAt = null;
    }
}
