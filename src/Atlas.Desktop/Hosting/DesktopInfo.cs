using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Atlas.Desktop.Identity;
using Atlas.Desktop.Network;

namespace Atlas.Desktop.Hosting;

/// <summary>What the desktop is and where it listens (known fully once Kestrel has started).</summary>
internal sealed class DesktopInfo
{
    private readonly DesktopIdentity _identity;

    public DesktopInfo(string name, DesktopIdentity identity, IReadOnlyList<ListenAddress> lanAddresses, string dataDirectory)
    {
        Name = name;
        _identity = identity;
        LanAddresses = lanAddresses;
        DataDirectory = dataDirectory;
    }

    public string Name { get; }

    /// <summary>The pin in the QR code: the serving key's SPKI in quick mode, the CA's in trusted mode (it follows a mode
    /// change or a CA rotation at once).</summary>
    public string Pin => _identity.Pin;

    public string DisplayFingerprint => _identity.DisplayFingerprint;

    public bool SelfSigned => _identity.SelfSigned;

    /// <summary><c>self-signed</c>, <c>local-ca</c> or <c>certificate</c> (a user-supplied one).</summary>
    public string TlsMode => _identity.Mode;

    /// <summary>SHA-256 of the whole certificate as colon-separated hex: what browsers' certificate viewers show (the SPKI
    /// pin is what the QR code and the Atlas apps check; a browser never displays it). In trusted mode, of the CA
    /// certificate the phone installs.</summary>
    public string CertificateSha256 => _identity.CertificateSha256;

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
