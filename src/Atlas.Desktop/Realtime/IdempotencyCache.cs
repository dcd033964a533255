using System.Collections.Concurrent;
using System.Security.Cryptography;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;

namespace Atlas.Desktop.Realtime;

/// <summary>Remembers recent request ids per device: a repeated id (a client resending after a reconnect) gets the
/// first answer again instead of running twice; the same id with a different body is refused.</summary>
/// <remarks>Bounded per device (oldest evicted) and by age. Chat keeps its own durable dedup (issue 6).</remarks>
internal sealed class IdempotencyCache
{
    private const int MaxPerDevice = 512;
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<string, DeviceEntries> _devices = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public IdempotencyCache(AtlasTime time)
    {
        _time = time.Provider;
    }

    public Task<AtlasEnvelope> GetOrRunAsync(string deviceId, string requestId, string type, ReadOnlySpan<byte> body,
        Func<Task<AtlasEnvelope>> run)
    {
        var fingerprint = Convert.ToHexString(SHA256.HashData(body)) + type;
        var entries = _devices.GetOrAdd(deviceId, _ => new DeviceEntries());
        var now = _time.GetUtcNow();
        lock (entries)
        {
            while (entries.Order.TryPeek(out var oldest)
                && (entries.Order.Count > MaxPerDevice || entries.Map[oldest].At + Lifetime < now))
            {
                entries.Map.Remove(entries.Order.Dequeue());
            }

            if (entries.Map.TryGetValue(requestId, out var existing))
            {
                return existing.Fingerprint == fingerprint
                    ? existing.Result
                    : Task.FromException<AtlasEnvelope>(new AtlasException(ErrorCodes.DuplicateRequest,
                        $"The request id '{requestId}' was already used for a different request; use a new id."));
            }

            var result = run();
            entries.Map[requestId] = new Entry(fingerprint, result, now);
            entries.Order.Enqueue(requestId);
            return result;
        }
    }

    public void Forget(string deviceId) => _devices.TryRemove(deviceId, out _);

    private sealed class DeviceEntries
    {
        public Dictionary<string, Entry> Map { get; } = new(StringComparer.Ordinal);

        public Queue<string> Order { get; } = new();
    }

    private sealed record Entry(string Fingerprint, Task<AtlasEnvelope> Result, DateTimeOffset At);
}
