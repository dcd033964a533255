using System.Net;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Network;

/// <summary>Counts WebSockets that are upgraded but not yet past their <c>auth</c> frame, in total and per remote
/// address, so a host on the LAN cannot hold hundreds of sockets open for the auth timeout, and one host cannot take
/// every slot from the others.</summary>
internal sealed class UnauthenticatedSocketGate
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _perAddress = new(StringComparer.Ordinal);
    private readonly int _max;
    private readonly int _maxPerAddress;
    private readonly ILogger<UnauthenticatedSocketGate> _logger;
    private int _total;

    public UnauthenticatedSocketGate(IOptions<AtlasOptions> options, ILogger<UnauthenticatedSocketGate> logger)
    {
        _max = options.Value.WebSocket.MaxUnauthenticatedConnections;
        _maxPerAddress = options.Value.WebSocket.MaxUnauthenticatedConnectionsPerAddress;
        _logger = logger;
    }

    /// <summary>Sockets waiting for their auth frame now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _total;
            }
        }
    }

    /// <summary>A lease to dispose once the socket authenticated or ended, or null when a cap is reached (the upgrade is
    /// then refused).</summary>
    public IDisposable? TryEnter(IPAddress? address)
    {
        var key = (address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address)?.ToString() ?? "unknown";
        int total;
        lock (_lock)
        {
            _perAddress.TryGetValue(key, out var count);
            if (_total < _max && count < _maxPerAddress)
            {
                _perAddress[key] = count + 1;
                _total++;
                return new Lease(this, key);
            }

            total = _total;
        }

        Log.RefusedUnauthenticatedSocket(_logger, key, total);
        return null;
    }

    private void Exit(string key)
    {
        lock (_lock)
        {
            _total--;
            if (--_perAddress[key] == 0)
            {
                _perAddress.Remove(key);
            }
        }
    }

    private sealed class Lease(UnauthenticatedSocketGate gate, string key) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                gate.Exit(key);
            }
        }
    }
}
