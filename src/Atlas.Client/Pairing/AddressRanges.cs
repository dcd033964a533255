using System.Net;
using System.Net.Sockets;

namespace Atlas.Client.Pairing;

/// <summary>Address classification shared by the desktop (who may connect) and clients (where a link may point).</summary>
public static class AddressRanges
{
    /// <summary>Whether <paramref name="address"/> is loopback, RFC 1918, IPv4 link-local, IPv6 ULA or IPv6 link-local.</summary>
    /// <param name="address">The address (IPv4-mapped IPv6 addresses are unwrapped).</param>
    /// <param name="allowCgnat">Also accept 100.64.0.0/10 (carrier-grade NAT, used by Tailscale).</param>
    /// <returns><see langword="true"/> for local and private addresses.</returns>
    public static bool IsLocalOrPrivate(IPAddress address, bool allowCgnat = false)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] == 10
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254)
                || (allowCgnat && b[0] == 100 && b[1] >= 64 && b[1] <= 127);
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            return (b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80);
        }

        return false;
    }
}
