using System.Collections.Concurrent;
using Atlas.Client.Protocol;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Storage;

namespace Atlas.Desktop.Realtime;

/// <summary>Every live authenticated socket, by device: revocation closes them, permission changes reach them.</summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<DeviceConnection, byte>> _byDevice = new(StringComparer.Ordinal);
    private readonly Lock _admission = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Raised after a socket was registered or removed (the admin page's live connection counts).</summary>
    public event Action? Changed;

    /// <summary>Registers a socket within the limits. At the device's limit, the socket that has been silent longest
    /// (no frame for more than <paramref name="replaceSilentAfter"/>) gives up its place: it is returned in
    /// <paramref name="replaced"/>, already unregistered, for the caller to close. Sockets that talk are never replaced.</summary>
    public bool TryAdd(DeviceConnection connection, int maxPerDevice, int maxTotal, TimeSpan replaceSilentAfter, out DeviceConnection? replaced)
    {
        replaced = null;
        lock (_admission)
        {
            var set = _byDevice.GetOrAdd(connection.DeviceId, _ => new ConcurrentDictionary<DeviceConnection, byte>());
            if (set.Count >= maxPerDevice)
            {
                replaced = set.Keys.Where(c => c.Silence > replaceSilentAfter).MaxBy(c => c.Silence);
                if (replaced is null || !set.TryRemove(replaced, out _))
                {
                    replaced = null;
                    return false;
                }

                _count--;
            }
            else if (_count >= maxTotal)
            {
                return false;
            }

            set[connection] = 0;
            _count++;
        }

        if (replaced is null)
        {
            AtlasTelemetry.Connections.Add(1, AtlasTelemetry.DeviceKind(connection.DeviceId));
        }

        Changed?.Invoke();
        return true;
    }

    public void Remove(DeviceConnection connection)
    {
        lock (_admission)
        {
            if (_byDevice.TryGetValue(connection.DeviceId, out var set) && set.TryRemove(connection, out _))
            {
                _count--;
                if (set.IsEmpty)
                {
                    _byDevice.TryRemove(connection.DeviceId, out _);
                }
            }
            else
            {
                return;
            }
        }

        AtlasTelemetry.Connections.Add(-1, AtlasTelemetry.DeviceKind(connection.DeviceId));
        Changed?.Invoke();
    }

    public IReadOnlyList<DeviceConnection> Snapshot(string? deviceId = null) =>
        deviceId is null
            ? [.. _byDevice.Values.SelectMany(s => s.Keys)]
            : _byDevice.TryGetValue(deviceId, out var set) ? [.. set.Keys] : [];

    public int CountFor(string deviceId) => _byDevice.TryGetValue(deviceId, out var set) ? set.Count : 0;

    /// <summary>Closes every socket of a device now (revocation): an error frame, then the close frame.</summary>
    public Task<int> CloseDeviceAsync(string deviceId, int closeCode, string errorCode)
    {
        var connections = Snapshot(deviceId);
        foreach (var connection in connections)
        {
            connection.Close(closeCode, errorCode, new AtlasEnvelope
            {
                Type = MessageTypes.Error,
                Error = new AtlasError { Code = errorCode, Message = "This device was revoked on the desktop; pair it again to reconnect." },
            });
        }

        return Task.FromResult(connections.Count);
    }

    /// <summary>Applies a device's new permissions and quota to its live sockets and tells them.</summary>
    public Task UpdateDeviceAsync(DeviceRecord device)
    {
        foreach (var connection in Snapshot(device.Id))
        {
            connection.Device = device;
        }

        return Task.CompletedTask;
    }
}
