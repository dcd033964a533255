using System.Globalization;
using System.Threading.RateLimiting;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Chat;

/// <summary>Each device's LLM budget: <c>Atlas:Chat:MaxConcurrentAnswersPerDevice</c> answers at once and
/// <c>Atlas:Chat:AnswersPerMinutePerDevice</c> per minute, over all its sockets and REST requests together. Every new
/// answer takes its permits here before anything reaches the model; a refusal is <c>rate_limited</c> with
/// <c>retryAfter</c>.</summary>
/// <remarks>Both limits are <see cref="PartitionedRateLimiter{TResource}"/>s keyed by device. The per-minute window is
/// counted on Atlas's <see cref="TimeProvider"/> (the partition key carries the window's number), because the
/// library's replenishing limiters read the machine clock and a test could not move it.</remarks>
internal sealed class ChatLimiter : IAsyncDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly PartitionedRateLimiter<string> _concurrent;
    private readonly PartitionedRateLimiter<string> _perWindow;
    private readonly ChatFeatureOptions _options;
    private readonly TimeProvider _time;
    private readonly long _origin;

    public ChatLimiter(IOptions<AtlasOptions> options, AtlasTime time)
    {
        _options = options.Value.Chat;
        _time = time.Provider;
        _origin = _time.GetTimestamp();
        var concurrent = _options.MaxConcurrentAnswersPerDevice;
        var perWindow = _options.AnswersPerMinutePerDevice;
        _concurrent = PartitionedRateLimiter.Create<string, string>(device => RateLimitPartition.GetConcurrencyLimiter(device,
            _ => new ConcurrencyLimiterOptions { PermitLimit = concurrent, QueueLimit = 0 }));

        // A window's partition is never replenished while its number is current (its own window is longer); once the
        // number moves on, the library refills and then drops the idle partition.
        _perWindow = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = perWindow, Window = Window * 2, QueueLimit = 0, AutoReplenishment = false }));
    }

    /// <summary>Takes a new answer's permits for <paramref name="deviceId"/>; dispose the lease when the answer has ended
    /// (that frees its concurrency slot; the per-minute permit stays used).</summary>
    /// <exception cref="AtlasException"><c>rate_limited</c> with <see cref="AtlasException.RetryAfter"/> when the
    /// device is over either limit.</exception>
    public IDisposable Acquire(string deviceId)
    {
        var running = _concurrent.AttemptAcquire(deviceId);
        if (!running.IsAcquired)
        {
            running.Dispose();
            throw new AtlasException(ErrorCodes.RateLimited,
                $"This device already has {_options.MaxConcurrentAnswersPerDevice} answers running (Atlas:Chat:MaxConcurrentAnswersPerDevice); "
                + "wait for one to finish or cancel it, then send again.")
            { RetryAfter = 1 };
        }

        var elapsed = _time.GetElapsedTime(_origin);
        var number = elapsed.Ticks / Window.Ticks;
        using var started = _perWindow.AttemptAcquire(string.Create(CultureInfo.InvariantCulture, $"{deviceId}\n{number}"));
        if (!started.IsAcquired)
        {
            running.Dispose();
            var seconds = Math.Max(1, (int)Math.Ceiling(TimeSpan.FromTicks(((number + 1) * Window.Ticks) - elapsed.Ticks).TotalSeconds));
            throw new AtlasException(ErrorCodes.RateLimited,
                $"This device has started {_options.AnswersPerMinutePerDevice} answers this minute (Atlas:Chat:AnswersPerMinutePerDevice); "
                + $"send again in {seconds} seconds.")
            { RetryAfter = seconds };
        }

        return running;
    }

    public async ValueTask DisposeAsync()
    {
        await _concurrent.DisposeAsync().ConfigureAwait(false);
        await _perWindow.DisposeAsync().ConfigureAwait(false);
    }
}
