using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Realtime;

/// <summary>Remembers recent request ids per device: a repeated id (a client resending after a reconnect) gets the
/// first answer again instead of running twice; the same id with a different body is refused.</summary>
/// <remarks>
/// Memory is bounded in bytes, per device and in total (<see cref="RealtimeOptions.IdempotencyBytesPerDevice"/>,
/// <see cref="RealtimeOptions.IdempotencyBytes"/>): over a bound the oldest answers are dropped, never the ids. An
/// answer larger than <see cref="RealtimeOptions.IdempotencyMaxAnswerBytes"/> is not kept at all. A replay whose answer
/// is no longer kept runs again when the request can safely run twice (reads), and is refused with
/// <c>duplicate_request</c> otherwise, so a write still happens once. A timer drops entries older than
/// <see cref="RealtimeOptions.IdempotencyLifetime"/> without waiting for the device's next request; revocation forgets
/// a device at once. The cache never checks permissions: the router does that before asking it. Chat keeps its own
/// durable dedup (issue 6).
/// </remarks>
internal sealed class IdempotencyCache : IDisposable
{
    private const int MaxIdsPerDevice = 512;

    /// <summary>What an id costs besides its answer: the id, the fingerprint and the bookkeeping around them.</summary>
    private const int EntryOverheadBytes = 256;

    private readonly ConcurrentDictionary<string, DeviceEntries> _devices = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly RealtimeOptions _options;
    private readonly ITimer _sweeper;
    private readonly DeviceLifetimes _deviceLifetimes;
    private long _bytes;

    public IdempotencyCache(AtlasTime time, IOptions<AtlasOptions> options, DeviceLifetimes devices)
    {
        _deviceLifetimes = devices;
        devices.Revoked += Forget;
        _time = time.Provider;
        _options = options.Value.WebSocket;
        var period = TimeSpan.FromTicks(Math.Clamp(_options.IdempotencyLifetime.Ticks / 10, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
        _sweeper = _time.CreateTimer(_ => Sweep(), null, period, period);
    }

    /// <summary>Bytes held for every device (ids and kept answers).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public long BytesFor(string deviceId)
    {
        if (!_devices.TryGetValue(deviceId, out var entries))
        {
            return 0;
        }

        lock (entries)
        {
            return entries.Bytes;
        }
    }

    public int CountFor(string deviceId)
    {
        if (!_devices.TryGetValue(deviceId, out var entries))
        {
            return 0;
        }

        lock (entries)
        {
            return entries.Map.Count;
        }
    }

    /// <summary>Answers a request once per id. <paramref name="rerunnable"/>: running the request again changes nothing
    /// (a read), so a replay whose answer was not kept may run again.</summary>
    /// <remarks>A replay that arrives while the first run is still going waits for its answer. When that run is cancelled
    /// instead (it belonged to a socket or request that went away, typically the very connection whose drop made the
    /// client resend), nothing was answered and the id was let go, so the replay runs the request itself.</remarks>
    public Task<AtlasEnvelope> GetOrRunAsync(string deviceId, string requestId, string type, ReadOnlySpan<byte> body, bool rerunnable,
        Func<Task<AtlasEnvelope>> run) =>
        GetOrRunCoreAsync(deviceId, requestId, Convert.ToHexString(SHA256.HashData(body)) + type, rerunnable, run);

    private async Task<AtlasEnvelope> GetOrRunCoreAsync(string deviceId, string requestId, string fingerprint, bool rerunnable,
        Func<Task<AtlasEnvelope>> run)
    {
        while (true)
        {
            var answer = Lookup(deviceId, requestId, fingerprint, rerunnable, run, out var attached);
            try
            {
                return await answer.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (attached)
            {
                // The run this replay waited for was cancelled with its caller: run it for this one.
            }
        }
    }

    private Task<AtlasEnvelope> Lookup(string deviceId, string requestId, string fingerprint, bool rerunnable, Func<Task<AtlasEnvelope>> run,
        out bool attached)
    {
        attached = false;
        while (true)
        {
            var entries = _devices.GetOrAdd(deviceId, _ => new DeviceEntries());
            Entry entry;
            lock (entries)
            {
                if (entries.Forgotten)
                {
                    continue; // swept or revoked between the lookup and the lock
                }

                if (entries.Map.TryGetValue(requestId, out var existing))
                {
                    if (existing.Fingerprint != fingerprint)
                    {
                        return Task.FromException<AtlasEnvelope>(new AtlasException(ErrorCodes.DuplicateRequest,
                            $"The request id '{requestId}' was already used for a different request; use a new id."));
                    }

                    if (existing.Pending is { } pending)
                    {
                        attached = true;
                        return pending;
                    }

                    if (existing.Answer is { } answer)
                    {
                        return Task.FromResult(answer);
                    }

                    if (!rerunnable)
                    {
                        return Task.FromException<AtlasEnvelope>(new AtlasException(ErrorCodes.DuplicateRequest,
                            $"The request '{requestId}' was already handled; its answer is no longer kept. Check the result (for example list the folder) instead of sending it again."));
                    }

                    entry = existing;
                }
                else
                {
                    entry = new Entry(requestId, fingerprint, _time.GetUtcNow());
                    entries.Map[requestId] = entry;
                    entries.Order.Enqueue(entry);
                    Account(entries, entry.Cost);
                    TrimIds(entries);
                }

                entry.Pending = RunAsync(entries, entry, run);
                return entry.Pending;
            }
        }
    }

    /// <summary>Drops everything kept for a device (revocation).</summary>
    public void Forget(string deviceId)
    {
        if (_devices.TryRemove(deviceId, out var entries))
        {
            lock (entries)
            {
                Drop(entries);
            }
        }
    }

    public void Dispose()
    {
        _deviceLifetimes.Revoked -= Forget;
        _sweeper.Dispose();
    }

    private async Task<AtlasEnvelope> RunAsync(DeviceEntries entries, Entry entry, Func<Task<AtlasEnvelope>> run)
    {
        await Task.Yield(); // run outside the lock that registered the entry
        AtlasEnvelope answer;
        try
        {
            answer = await run().ConfigureAwait(false);
        }
        catch
        {
            lock (entries)
            {
                // A fault or cancellation is not an answer: the id may be tried again.
                entry.Pending = null;
                if (!entries.Forgotten && RemoveCurrent(entries, entry))
                {
                    Account(entries, -entry.Cost);
                }
            }

            throw;
        }

        lock (entries)
        {
            entry.Pending = null;
            var size = SizeOf(answer);
            if (!entries.Forgotten && entries.Map.TryGetValue(entry.RequestId, out var current) && ReferenceEquals(current, entry) && size <= _options.IdempotencyMaxAnswerBytes)
            {
                entry.Answer = answer;
                entry.AnswerBytes = size;
                Account(entries, size);
                TrimAnswers(entries);
            }
        }

        return answer;
    }

    private void TrimIds(DeviceEntries entries)
    {
        while (entries.Map.Count > MaxIdsPerDevice && entries.Order.TryDequeue(out var oldest))
        {
            if (RemoveCurrent(entries, oldest))
            {
                Account(entries, -oldest.Cost - oldest.AnswerBytes);
                oldest.Answer = null;
                oldest.AnswerBytes = 0;
            }
        }
    }

    /// <summary>Drops the device's oldest answers (keeping their ids) while it is over its share or the total is
    /// over the bound: the device that adds pays.</summary>
    private void TrimAnswers(DeviceEntries entries)
    {
        foreach (var entry in entries.Order)
        {
            if (entries.Bytes <= _options.IdempotencyBytesPerDevice && Bytes <= _options.IdempotencyBytes)
            {
                return;
            }

            if (entry.Answer is not null)
            {
                Account(entries, -entry.AnswerBytes);
                entry.Answer = null;
                entry.AnswerBytes = 0;
            }
        }
    }

    private void Sweep()
    {
        var cutoff = _time.GetUtcNow() - _options.IdempotencyLifetime;
        foreach (var (deviceId, entries) in _devices)
        {
            lock (entries)
            {
                while (entries.Order.TryPeek(out var oldest) && oldest.At <= cutoff && oldest.Pending is null)
                {
                    entries.Order.Dequeue();
                    if (RemoveCurrent(entries, oldest))
                    {
                        Account(entries, -oldest.Cost - oldest.AnswerBytes);
                    }
                }

                if (entries.Map.Count == 0)
                {
                    Drop(entries);
                    _devices.TryRemove(new KeyValuePair<string, DeviceEntries>(deviceId, entries));
                }
            }
        }
    }

    /// <summary>Removes the entry if it is still the one for its id (an id tried again after a fault has a new entry).</summary>
    private static bool RemoveCurrent(DeviceEntries entries, Entry entry) =>
        entries.Map.TryGetValue(entry.RequestId, out var current) && ReferenceEquals(current, entry) && entries.Map.Remove(entry.RequestId);

    private void Drop(DeviceEntries entries)
    {
        entries.Forgotten = true;
        Interlocked.Add(ref _bytes, -entries.Bytes);
        entries.Bytes = 0;
        entries.Map.Clear();
        entries.Order.Clear();
    }

    private void Account(DeviceEntries entries, long bytes)
    {
        entries.Bytes += bytes;
        Interlocked.Add(ref _bytes, bytes);
    }

    /// <summary>The answer's size as JSON, from the raw bytes its data already holds (no second serialization).</summary>
    private static long SizeOf(AtlasEnvelope answer) =>
        (answer.Data is { ValueKind: not System.Text.Json.JsonValueKind.Undefined } data ? JsonMarshal.GetRawUtf8Value(data).Length : 0)
        + (answer.Error is { } error ? (error.Code.Length + error.Message.Length) * sizeof(char) : 0);

    private sealed class DeviceEntries
    {
        public Dictionary<string, Entry> Map { get; } = new(StringComparer.Ordinal);

        public Queue<Entry> Order { get; } = new();

        public long Bytes { get; set; }

        public bool Forgotten { get; set; }
    }

    private sealed class Entry(string requestId, string fingerprint, DateTimeOffset at)
    {
        public string RequestId { get; } = requestId;

        public string Fingerprint { get; } = fingerprint;

        public DateTimeOffset At { get; } = at;

        public long Cost => EntryOverheadBytes + ((RequestId.Length + Fingerprint.Length) * sizeof(char));

        public Task<AtlasEnvelope>? Pending { get; set; }

        public AtlasEnvelope? Answer { get; set; }

        public long AnswerBytes { get; set; }
    }
}
