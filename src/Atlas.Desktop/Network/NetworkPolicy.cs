using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using Atlas.Client.Pairing;

namespace Atlas.Desktop.Network;

/// <summary>Who may talk to the desktop: remote address ranges, the Host allow-list and the exact Origin allow-list.</summary>
internal sealed class NetworkPolicy
{
    private readonly bool _allowCgnat;
    private readonly FrozenSet<string> _hosts;
    private FrozenSet<string> _origins = FrozenSet<string>.Empty;
    private FrozenSet<string> _adminOrigins = FrozenSet<string>.Empty;

    public NetworkPolicy(IEnumerable<string> hosts, bool allowCgnat)
    {
        _allowCgnat = allowCgnat;
        _hosts = hosts.Select(Normalize).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyCollection<string> Hosts => _hosts;

    public IReadOnlyCollection<string> Origins => _origins;

    public IReadOnlyList<int> Ports { get; private set; } = [];

    /// <summary>Called once the listening ports are known: every origin is <c>https://host:port</c>, exactly.</summary>
    public void SetPorts(IReadOnlyList<int> ports)
    {
        Ports = ports;
        _origins = (from host in _hosts from port in ports select Origin(host, port)).ToFrozenSet(StringComparer.Ordinal);
        _adminOrigins = (from host in _hosts where IsLoopbackHost(host) from port in ports select Origin(host, port))
            .ToFrozenSet(StringComparer.Ordinal);
    }

    public bool IsAllowedRemote(IPAddress? address) => address is not null && AddressRanges.IsLocalOrPrivate(address, _allowCgnat);

    public bool IsAllowedHost(string? host) => host is not null && _hosts.Contains(Normalize(host));

    /// <summary>Exact comparison against the serialized origins: no prefixes, no patterns
    /// (<c>https://192.168.1.23.evil.com</c> is not <c>https://192.168.1.23:47321</c>).</summary>
    public bool IsAllowedOrigin(string origin) => _origins.Contains(origin);

    public bool IsAdminOrigin(string origin) => _adminOrigins.Contains(origin);

    public static bool IsLoopbackHost(string host) =>
        host is "localhost" or "[::1]" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private static string Origin(string host, int port) => port == 443
        ? "https://" + host
        : string.Create(CultureInfo.InvariantCulture, $"https://{host}:{port}");

    private static string Normalize(string host)
    {
        host = host.Trim().ToLowerInvariant();
        return IPAddress.TryParse(host.Trim('[', ']'), out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? "[" + ip.ToString() + "]"
            : host;
    }
}
