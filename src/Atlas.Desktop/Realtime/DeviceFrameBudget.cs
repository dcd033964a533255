using System.Collections.Concurrent;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Realtime;

/// <summary>The documented frame rate, per device: <c>Atlas:WebSocket:MaxFramesPerSecond</c> frames per second with a
/// burst of ten seconds' worth, counted over all the device's sockets together (four sockets do not give four times the
/// budget). A token bucket on Atlas's clock, one per device that has connected.</summary>
internal sealed class DeviceFrameBudget
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly int _rate;
    private readonly TimeProvider _time;

    public DeviceFrameBudget(IOptions<AtlasOptions> options, AtlasTime time)
    {
        _rate = options.Value.WebSocket.MaxFramesPerSecond;
        _time = time.Provider;
    }

    /// <summary>Takes one frame from <paramref name="deviceId"/>'s budget; false when the device is over its rate.</summary>
    public bool TryTake(string deviceId) => _buckets.GetOrAdd(deviceId, static (_, self) => new Bucket(self._rate, self._time), this).TryTake();

    private sealed class Bucket(int rate, TimeProvider time)
    {
        private readonly Lock _lock = new();
        private double _tokens = rate * 10.0;
        private long _last = time.GetTimestamp();

        public bool TryTake()
        {
            lock (_lock)
            {
                var now = time.GetTimestamp();
                _tokens = Math.Min(rate * 10.0, _tokens + (time.GetElapsedTime(_last, now).TotalSeconds * rate));
                _last = now;
                if (_tokens < 1)
                {
                    return false;
                }

                _tokens--;
                return true;
            }
        }
    }
}
