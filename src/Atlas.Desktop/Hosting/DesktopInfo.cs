using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Atlas.Desktop.Network;

namespace Atlas.Desktop.Hosting;

/// <summary>What the desktop is and where it listens (known fully once Kestrel has started).</summary>
internal sealed class DesktopInfo
{
    public DesktopInfo(string name, string pin, string displayFingerprint, bool selfSigned, IReadOnlyList<ListenAddress> lanAddresses,
        string dataDirectory, string certificateSha256 = "")
    {
        CertificateSha256 = certificateSha256;
        Name = name;
        Pin = pin;
        DisplayFingerprint = displayFingerprint;
        SelfSigned = selfSigned;
        LanAddresses = lanAddresses;
        DataDirectory = dataDirectory;
    }

    public string Name { get; }

    public string Pin { get; }

    public string DisplayFingerprint { get; }

    public bool SelfSigned { get; }

    /// <summary>SHA-256 of the whole certificate as colon-separated hex: what browsers' certificate viewers show (the SPKI
    /// pin is what the QR code and the Atlas apps check; a browser never displays it).</summary>
    public string CertificateSha256 { get; }

    public IReadOnlyList<ListenAddress> LanAddresses { get; }

    public string DataDirectory { get; }

    public int Port { get; private set; }

    public void SetPort(int port) => Port = port;

    /// <summary>The address phones use: the first LAN address, else loopback (then only this machine can pair).</summary>
    public Uri PairingBaseUri => BaseUri(LanAddresses.Count > 0 ? LanAddresses[0].Address : IPAddress.Loopback);

    public Uri AdminBaseUri => BaseUri(IPAddress.Loopback);

    public IReadOnlyList<Uri> Urls => [AdminBaseUri, .. LanAddresses.Select(a => BaseUri(a.Address))];

    private Uri BaseUri(IPAddress address)
    {
        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + address + "]" : address.ToString();
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"https://{host}:{Port}/"));
    }
}
