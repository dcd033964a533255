using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Atlas.Client.Pairing;

namespace Atlas.Desktop.Network;

/// <summary>An address the desktop listens on, with the adapter it belongs to.</summary>
internal sealed record ListenAddress(IPAddress Address, string Interface);

/// <summary>Chooses the LAN addresses to listen on: private addresses of physical adapters that are up; VPN, virtual
/// and container adapters are skipped unless named explicitly.</summary>
internal static class InterfaceSelector
{
    // Adapters that are rarely the network a phone is on (AnythingLLM #6129: the QR pointed at the VPN adapter).
    private static readonly string[] SkippedPrefixes =
    [
        "docker", "br-", "veth", "virbr", "vnet", "tun", "tap", "wg", "tailscale", "utun", "zt", "vmnet", "vboxnet",
        "lxc", "lxd", "cni", "flannel", "cali", "podman", "kube", "ham", "ppp", "ipsec", "nordlynx", "proton", "mullvad",
    ];

    public static IReadOnlyList<ListenAddress> Select(IReadOnlyList<string> configured, bool allowCgnat) =>
        Select(NetworkInterface.GetAllNetworkInterfaces().Select(Describe).ToList(), configured, allowCgnat);

    internal static IReadOnlyList<ListenAddress> Select(IReadOnlyList<AdapterInfo> adapters, IReadOnlyList<string> configured,
        bool allowCgnat)
    {
        var result = new List<ListenAddress>();
        if (configured.Count > 0)
        {
            foreach (var wanted in configured)
            {
                if (IPAddress.TryParse(wanted, out var ip))
                {
                    if (!AddressRanges.IsLocalOrPrivate(ip, allowCgnat))
                    {
                        throw new InvalidOperationException(
                            $"Atlas:Network:Interfaces lists {ip}, which is not a private address; Atlas never listens on public addresses.");
                    }

                    result.Add(new ListenAddress(ip, adapters.FirstOrDefault(a => a.Addresses.Contains(ip))?.Name ?? "configured"));
                    continue;
                }

                var adapter = adapters.FirstOrDefault(a => string.Equals(a.Name, wanted, StringComparison.Ordinal))
                    ?? throw new InvalidOperationException(
                        $"Atlas:Network:Interfaces lists '{wanted}', which is neither an IP address nor an adapter here. "
                        + $"Adapters: {string.Join(", ", adapters.Select(a => a.Name))}.");
                result.AddRange(adapter.Addresses.Where(a => Usable(a, allowCgnat)).Select(a => new ListenAddress(a, adapter.Name)));
            }

            return result;
        }

        foreach (var adapter in adapters)
        {
            if (!adapter.Up || adapter.Loopback || adapter.Virtual
                || SkippedPrefixes.Any(p => adapter.Name.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            result.AddRange(adapter.Addresses.Where(a => Usable(a, allowCgnat)).Select(a => new ListenAddress(a, adapter.Name)));
        }

        return result;
    }

    private static bool Usable(IPAddress address, bool allowCgnat) =>
        !IPAddress.IsLoopback(address)
        && AddressRanges.IsLocalOrPrivate(address, allowCgnat)
        && !address.IsIPv6LinkLocal // needs a scope id in URLs; phones reach the IPv4 or ULA address instead
        && !(address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes() is [169, 254, ..]);

    private static AdapterInfo Describe(NetworkInterface adapter)
    {
        IReadOnlyList<IPAddress> addresses;
        try
        {
            addresses = adapter.GetIPProperties().UnicastAddresses.Select(u => u.Address).ToList();
        }
        catch (NetworkInformationException)
        {
            addresses = [];
        }

        return new AdapterInfo(adapter.Name, adapter.OperationalStatus == OperationalStatus.Up,
            adapter.NetworkInterfaceType == NetworkInterfaceType.Loopback,
            adapter.NetworkInterfaceType is NetworkInterfaceType.Tunnel or NetworkInterfaceType.Ppp,
            addresses);
    }
}

/// <summary>What the selector needs to know about an adapter (a seam for tests).</summary>
internal sealed record AdapterInfo(string Name, bool Up, bool Loopback, bool Virtual, IReadOnlyList<IPAddress> Addresses);
