using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Atlas.Client.Pairing;
using Atlas.Desktop.Hosting;

namespace Atlas.Desktop.Identity;

/// <summary>The desktop's TLS identity: an ECDSA P-256 key made on first run (key file 0600) and a self-signed
/// certificate re-issued with that key at every start for the current addresses, or a user-supplied certificate.</summary>
internal sealed class DesktopIdentity : IDisposable
{
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private DesktopIdentity(X509Certificate2 certificate, bool selfSigned)
    {
        Certificate = certificate;
        SelfSigned = selfSigned;
        Pin = SpkiPin.Compute(certificate);
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>base64url(SHA-256(SPKI)).</summary>
    public string Pin { get; }

    public bool SelfSigned { get; }

    public string DisplayFingerprint => SpkiPin.ToDisplay(Pin);

    /// <summary>SHA-256 of the DER certificate, "AB:CD:…" (the form browsers' certificate viewers show).</summary>
    public string CertificateSha256 => string.Join(':', SHA256.HashData(Certificate.RawData).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    public static DesktopIdentity Load(string identityDirectory, CertificateOptions options, IEnumerable<IPAddress> addresses,
        IEnumerable<string> hostNames, TimeProvider time)
    {
        if (!string.IsNullOrEmpty(options.Path))
        {
            return new DesktopIdentity(LoadUserCertificate(options), selfSigned: false);
        }

        var keyPath = Path.Combine(identityDirectory, "key.pem");
        using var key = LoadOrCreateKey(keyPath);
        var certificate = Issue(key, addresses, hostNames, time);
        File.WriteAllText(Path.Combine(identityDirectory, "cert.pem"), certificate.ExportCertificatePem());
        return new DesktopIdentity(certificate, selfSigned: true);
    }

    private static X509Certificate2 LoadUserCertificate(CertificateOptions options)
    {
        var path = options.Path!;
        try
        {
            if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            {
                return X509CertificateLoader.LoadPkcs12FromFile(path, options.Password);
            }

            var certificate = X509Certificate2.CreateFromPemFile(path, options.KeyPath);
            if (!certificate.HasPrivateKey)
            {
                throw new InvalidOperationException("the file has no private key; set Atlas:Certificate:KeyPath to its key file");
            }

            return certificate;
        }
        catch (Exception e) when (e is CryptographicException or InvalidOperationException or IOException)
        {
            throw new InvalidOperationException(
                $"Atlas:Certificate:Path '{path}' could not be loaded ({e.Message}). Use a PEM certificate with "
                + "Atlas:Certificate:KeyPath, or a PFX/P12 file with Atlas:Certificate:Password.", e);
        }
    }

    private static ECDsa LoadOrCreateKey(string keyPath)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(keyPath))
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(keyPath) & ~PrivateFile) != 0)
            {
                // Someone widened the key's permissions: narrow them again before using it.
                File.SetUnixFileMode(keyPath, PrivateFile);
            }

            try
            {
                key.ImportFromPem(File.ReadAllText(keyPath));
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                key.Dispose();
                throw new InvalidOperationException(
                    $"The identity key {keyPath} is unreadable ({e.Message}). Restore it from a backup, or delete it to create a "
                    + "new identity (every paired device will then have to pair again).", e);
            }

            return key;
        }

        var pem = key.ExportPkcs8PrivateKeyPem();
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFile;
        }

        using (var stream = new FileStream(keyPath, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(pem);
        }

        return key;
    }

    private static X509Certificate2 Issue(ECDsa key, IEnumerable<IPAddress> addresses, IEnumerable<string> hostNames, TimeProvider time)
    {
        var request = new CertificateRequest("CN=Atlas desktop", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in hostNames.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            san.AddDnsName(name);
        }

        foreach (var address in addresses.Distinct())
        {
            san.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = time.GetUtcNow();
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(365));
    }

    public void Dispose() => Certificate.Dispose();
}
