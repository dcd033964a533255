using System.Formats.Asn1;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Atlas.Desktop.Identity;

/// <summary>Trusted mode: the desktop as its own certificate authority. The CA key (ECDSA P-256, <c>ca-key.pem</c>, 0600)
/// is made on first use; the CA certificate (<c>ca.pem</c>) carries a critical nameConstraints extension that permits only
/// this desktop's names and addresses, so a phone that installs it trusts it for nothing else. Serving certificates are
/// issued by it with a fresh key, live <see cref="ServingLifetime"/>, and are re-issued when two thirds of that have
/// passed or when the desktop's names or addresses change.</summary>
internal sealed class LocalCertificateAuthority : IDisposable
{
    public const string KeyFileName = "ca-key.pem";
    public const string CertificateFileName = "ca.pem";

    /// <summary>How long a CA certificate is valid. Phones keep it until the user removes it or the CA is rotated.</summary>
    public static readonly TimeSpan AuthorityLifetime = TimeSpan.FromDays(5 * 365);

    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private const string NameConstraintsOid = "2.5.29.30";

    private readonly string _directory;
    private readonly string _desktopName;
    private readonly ECDsa _key;
    private readonly Lock _gate = new();
    private X509Certificate2 _authority;
    private Serving? _serving;

    private LocalCertificateAuthority(string directory, string desktopName, ECDsa key, X509Certificate2 authority, TimeSpan servingLifetime)
    {
        _directory = directory;
        _desktopName = desktopName;
        _key = key;
        _authority = authority;
        ServingLifetime = servingLifetime;
    }

    /// <summary>The CA certificate (public part only): what <c>/ca.crt</c> serves and phones install.</summary>
    public X509Certificate2 Authority
    {
        get
        {
            lock (_gate)
            {
                return _authority;
            }
        }
    }

    public TimeSpan ServingLifetime { get; }

    /// <summary>Loads the CA from <paramref name="directory"/>, or makes a new one there (first use of trusted mode). The CA
    /// certificate is re-issued with the same key (same pin) when it does not cover <paramref name="hostNames"/> and
    /// <paramref name="addresses"/> or is about to expire.</summary>
    public static LocalCertificateAuthority LoadOrCreate(string directory, string desktopName, IEnumerable<IPAddress> addresses,
        IEnumerable<string> hostNames, TimeSpan servingLifetime, TimeProvider time)
    {
        var keyPath = Path.Combine(directory, KeyFileName);
        var certificatePath = Path.Combine(directory, CertificateFileName);
        var key = DesktopIdentity.LoadOrCreateKey(keyPath, "CA key");
        var names = Normalize(hostNames);
        var ips = Normalize(addresses);
        var now = time.GetUtcNow();
        X509Certificate2? authority = null;
        if (File.Exists(certificatePath))
        {
            try
            {
                authority = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath));
            }
            catch (CryptographicException)
            {
                authority = null;
            }

            if (authority is not null && !(SameKey(authority, key) && Covers(authority, names, ips) && authority.NotAfter.ToUniversalTime() > now.AddDays(30).UtcDateTime))
            {
                authority.Dispose();
                authority = null;
            }
        }

        if (authority is null)
        {
            authority = CreateAuthority(key, desktopName, names, ips, now);
            File.WriteAllText(certificatePath, authority.ExportCertificatePem());
        }

        return new LocalCertificateAuthority(directory, desktopName, key, authority, servingLifetime);
    }

    /// <summary>Deletes the CA key and certificate in <paramref name="directory"/> (trusted mode off, or before a rotation):
    /// nobody can issue with that CA again, so a phone that still has it installed trusts nothing new.</summary>
    public static void Destroy(string directory)
    {
        File.Delete(Path.Combine(directory, KeyFileName));
        File.Delete(Path.Combine(directory, CertificateFileName));
    }

    /// <summary>The serving certificate for these names and addresses: the current one while it is fresh (less than two
    /// thirds of its lifetime gone) and names exactly these, otherwise a new one (fresh key) issued now.</summary>
    public X509Certificate2 ServingCertificate(IEnumerable<IPAddress> addresses, IEnumerable<string> hostNames, DateTimeOffset now)
    {
        var names = Normalize(hostNames);
        var ips = Normalize(addresses);
        lock (_gate)
        {
            if (_serving is { } current && current.Names.SequenceEqual(names, StringComparer.Ordinal) && current.Addresses.SequenceEqual(ips)
                && now < current.RenewAt && now >= current.NotBefore)
            {
                return current.Certificate;
            }

            if (!Covers(_authority, names, ips))
            {
                // A new address (or name): the CA's constraints must name it, so the CA certificate is re-issued with the
                // same key. Phones then need the new CA certificate; the pin stays the same.
                var renewed = CreateAuthority(_key, _desktopName, names, ips, now);
                File.WriteAllText(Path.Combine(_directory, CertificateFileName), renewed.ExportCertificatePem());
                _authority = renewed;
            }

            var certificate = Issue(names, ips, now);
            _serving = new Serving(certificate, names, ips, now.AddMinutes(-5), now + (ServingLifetime * 2 / 3));
            return certificate;
        }
    }

    private X509Certificate2 Issue(IReadOnlyList<string> names, IReadOnlyList<IPAddress> addresses, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Atlas desktop", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            san.AddDnsName(name);
        }

        foreach (var address in addresses)
        {
            san.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(san.Build(critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_authority, true, false));

        // TLS stacks (.NET's included) leave the self-signed CA out of the chain they send; native clients find it here.
        request.CertificateExtensions.Add(new X509Extension(Atlas.Client.Pairing.SpkiPin.AuthorityExtensionOid, _authority.RawData, critical: false));
        var notAfter = now + ServingLifetime;
        if (notAfter > _authority.NotAfter.ToUniversalTime())
        {
            notAfter = _authority.NotAfter.ToUniversalTime();
        }

        using var issuer = _authority.CopyWithPrivateKey(_key);
        using var issued = request.Create(issuer, now.AddMinutes(-5), notAfter, RandomSerial());
        return issued.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 CreateAuthority(ECDsa key, string desktopName, IReadOnlyList<string> names, IReadOnlyList<IPAddress> addresses,
        DateTimeOffset now)
    {
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName("Atlas");
        subject.AddCommonName($"Atlas local CA for {Cut(desktopName, 40)} ({Convert.ToHexString(RandomNumberGenerator.GetBytes(4))})");
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(BuildNameConstraints(names, addresses));
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now + AuthorityLifetime);

        // Only the public part is kept in memory; issuing attaches the key for the moment it signs.
        return X509CertificateLoader.LoadCertificate(created.RawData);
    }

    /// <summary>The critical nameConstraints extension (RFC 5280 §4.2.1.10) permitting exactly these DNS names (and their
    /// subdomains) and these addresses (each as address/all-ones mask: one host). Having both a dNSName and an iPAddress
    /// subtree matters: a name type without any permitted subtree would be unconstrained.</summary>
    public static X509Extension BuildNameConstraints(IEnumerable<string> hostNames, IEnumerable<IPAddress> addresses)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                foreach (var name in Normalize(hostNames))
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteCharacterString(UniversalTagNumber.IA5String, name, new Asn1Tag(TagClass.ContextSpecific, 2));
                    }
                }

                foreach (var address in Normalize(addresses))
                {
                    var bytes = address.GetAddressBytes();
                    var value = new byte[bytes.Length * 2];
                    bytes.CopyTo(value, 0);
                    value.AsSpan(bytes.Length).Fill(0xFF);
                    using (writer.PushSequence())
                    {
                        writer.WriteOctetString(value, new Asn1Tag(TagClass.ContextSpecific, 7));
                    }
                }
            }
        }

        return new X509Extension(NameConstraintsOid, writer.Encode(), critical: true);
    }

    /// <summary>The permitted DNS names and addresses of a CA certificate's nameConstraints (empty when it has none).</summary>
    public static (IReadOnlyList<string> Names, IReadOnlyList<IPAddress> Addresses) ReadNameConstraints(X509Certificate2 authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        var extension = authority.Extensions[NameConstraintsOid];
        var names = new List<string>();
        var addresses = new List<IPAddress>();
        if (extension is null)
        {
            return (names, addresses);
        }

        var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
        if (reader.HasData && reader.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
        {
            var permitted = reader.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0));
            while (permitted.HasData)
            {
                var subtree = permitted.ReadSequence();
                var tag = subtree.PeekTag();
                if (tag.HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 2)))
                {
                    names.Add(subtree.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, 2)));
                }
                else if (tag.HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 7)))
                {
                    var value = subtree.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 7));
                    addresses.Add(new IPAddress(value.AsSpan(0, value.Length / 2)));
                }
            }
        }

        return (names, addresses);
    }

    private static bool Covers(X509Certificate2 authority, IReadOnlyList<string> names, IReadOnlyList<IPAddress> addresses)
    {
        var (permittedNames, permittedAddresses) = ReadNameConstraints(authority);
        return names.All(n => permittedNames.Contains(n, StringComparer.OrdinalIgnoreCase)) && addresses.All(permittedAddresses.Contains);
    }

    private static bool SameKey(X509Certificate2 certificate, ECDsa key) =>
        certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo());

    private static List<string> Normalize(IEnumerable<string> names) =>
        [.. names.Select(n => n.Trim().TrimEnd('.').ToLowerInvariant()).Where(n => n.Length > 0 && Uri.CheckHostName(n) == UriHostNameType.Dns)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    private static List<IPAddress> Normalize(IEnumerable<IPAddress> addresses) =>
        [.. addresses.Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a)
            .Where(a => a.AddressFamily is AddressFamily.InterNetwork || (a.AddressFamily is AddressFamily.InterNetworkV6 && a.ScopeId == 0))
            .Distinct().OrderBy(a => a.AddressFamily).ThenBy(a => new BigInteger(a.GetAddressBytes(), isUnsigned: true, isBigEndian: true))];

    private static byte[] RandomSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        serial[0] |= 0x01;
        return serial;
    }

    private static string Cut(string value, int length) => value.Length <= length ? value : value[..length];

    public void Dispose()
    {
        _key.Dispose();
        _authority.Dispose();
        _serving?.Certificate.Dispose();
    }

    private sealed record Serving(X509Certificate2 Certificate, IReadOnlyList<string> Names, IReadOnlyList<IPAddress> Addresses,
        DateTimeOffset NotBefore, DateTimeOffset RenewAt);
}
