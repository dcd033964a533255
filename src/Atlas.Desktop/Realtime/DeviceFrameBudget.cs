using System.Collections.Concurrent;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Realtime;

/// <summary>The documented frame rate, per device: <c>Atlas:WebSocket:MaxFramesPerSecond</c> frames per second with a
/// burst of ten seconds' worth, counted over all the device's sockets together (four sockets do not give four times the
/// budget). A token bucket on Atlas's clock per device that sent a frame lately: a revoked device's bucket goes at once,
/// and a bucket that has refilled completely (the device was idle for the burst window) is dropped by the next sweep,
/// since a new bucket is the same; so the buckets held are bounded by the devices active in the last burst window.</summary>
internal sealed class DeviceFrameBudget
{
    private const double BurstSeconds = 10.0;

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly int _rate;
    private readonly TimeProvider _time;
    private readonly TimeSpan _sweepEvery = TimeSpan.FromSeconds(BurstSeconds);
    private long _lastSweep;

    public DeviceFrameBudget(IOptions<AtlasOptions> options, AtlasTime time, DeviceLifetimes devices)
    {
        _rate = options.Value.WebSocket.MaxFramesPerSecond;
        _time = time.Provider;
        _lastSweep = _time.GetTimestamp();
        devices.Revoked += Forget;
    }

    /// <summary>How many device buckets are held now.</summary>
    public int Count => _buckets.Count;

    /// <summary>Whether a bucket is held for <paramref name="deviceId"/>.</summary>
    public bool Holds(string deviceId) => _buckets.ContainsKey(deviceId);

    /// <summary>Takes one frame from <paramref name="deviceId"/>'s budget; false when the device is over its rate.</summary>
    public bool TryTake(string deviceId)
    {
        var now = _time.GetTimestamp();
        SweepIfDue(now);
        while (true)
        {
            var bucket = _buckets.GetOrAdd(deviceId, static (_, self) => new Bucket(self._rate, self._time), this);
            if (bucket.TryTake(now) is { } taken)
            {
                return taken;
            }

            // Retired by a sweep between the lookup and the take: the next lookup finds (or makes) its successor.
        }
    }

    /// <summary>Drops the bucket of a revoked device.</summary>
    public void Forget(string deviceId) => _buckets.TryRemove(deviceId, out _);

    private void SweepIfDue(long now)
    {
        var last = Interlocked.Read(ref _lastSweep);
        if (_time.GetElapsedTime(last, now) < _sweepEvery || Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return;
        }

        foreach (var (deviceId, bucket) in _buckets)
        {
            if (bucket.TryRetireFull(now))
            {
                _buckets.TryRemove(new KeyValuePair<string, Bucket>(deviceId, bucket));
            }
        }
    }

    private sealed class Bucket(int rate, TimeProvider time)
    {
        private readonly Lock _lock = new();
        private double _tokens = rate * BurstSeconds;
        private long _last = time.GetTimestamp();
        private bool _retired;

        /// <summary>Takes a token; null when this bucket was retired (look the device's bucket up again).</summary>
        public bool? TryTake(long now)
        {
            lock (_lock)
            {
                if (_retired)
                {
                    return null;
                }

                Refill(now);
                if (_tokens < 1)
                {
                    return false;
                }

                _tokens--;
                return true;
            }
        }

        /// <summary>Retires the bucket when it has refilled completely (it then holds nothing a new bucket would not).</summary>
        public bool TryRetireFull(long now)
        {
            lock (_lock)
            {
                Refill(now);
                _retired = _tokens >= rate * BurstSeconds;
                return _retired;
            }
        }

        private void Refill(long now)
        {
            if (now > _last)
            {
                _tokens = Math.Min(rate * BurstSeconds, _tokens + (time.GetElapsedTime(_last, now).TotalSeconds * rate));
                _last = now;
            }
        }
    }
}
