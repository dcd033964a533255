using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Atlas.Client.Pairing;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Identity;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Identity;

/// <summary>The local CA of trusted mode (issue 10): exact nameConstraints DER, a private key file, renewal, re-issue on
/// an address change, and rotation and mode changes that change the pin.</summary>
public sealed class LocalCertificateAuthorityTests : IDisposable
{
    private static readonly IPAddress[] Addresses = [IPAddress.Parse("192.168.1.20"), IPAddress.IPv6Loopback];
    private static readonly string[] Names = ["localhost", "desk.local"];
    private readonly string _directory = Directory.CreateTempSubdirectory("atl-ca-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>The extension is RFC 5280 nameConstraints, critical, with one permitted subtree per name and per address
    /// (address + all-ones mask), byte for byte.</summary>
    [Fact]
    [Trait("Issue10", "ca")]
    public void BuildNameConstraints_NamesAndAddresses_DerIsExactAndCritical()
    {
        var extension = LocalCertificateAuthority.BuildNameConstraints(Names, Addresses);

        const string Expected =
            "304D" + "A04B"
            + "300C820A" + "6465736B2E6C6F63616C" // desk.local
            + "300B8209" + "6C6F63616C686F7374" // localhost
            + "300A8708" + "C0A80114" + "FFFFFFFF" // 192.168.1.20/32
            + "30228720" + "00000000000000000000000000000001" + "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"; // ::1/128
        Assert.Equal("2.5.29.30", extension.Oid!.Value);
        Assert.True(extension.Critical);
        Assert.Equal(Expected, Convert.ToHexString(extension.RawData));
    }

    /// <summary>First use makes a CA key file readable by the user only and a CA certificate: CA:true pathlen 0 (critical),
    /// keyCertSign (critical) and critical name constraints naming exactly this desktop.</summary>
    [Fact]
    [Trait("Issue10", "ca")]
    public void LoadOrCreate_FirstUse_KeyIs0600_CaIsConstrainedToThisDesktop()
    {
        using var ca = LocalCertificateAuthority.LoadOrCreate(_directory, "Desk", Addresses, Names, TimeSpan.FromDays(7), TimeProvider.System);

        var keyPath = Path.Combine(_directory, LocalCertificateAuthority.KeyFileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        var authority = ca.Authority;
        Assert.False(authority.HasPrivateKey);
        var basic = Assert.IsType<X509BasicConstraintsExtension>(authority.Extensions["2.5.29.19"]);
        Assert.True(basic is { Critical: true, CertificateAuthority: true, HasPathLengthConstraint: true, PathLengthConstraint: 0 });
        var usage = Assert.IsType<X509KeyUsageExtension>(authority.Extensions["2.5.29.15"]);
        Assert.True(usage.Critical);
        Assert.Equal(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, usage.KeyUsages);
        var constraints = authority.Extensions["2.5.29.30"]!;
        Assert.True(constraints.Critical);
        Assert.Equal(LocalCertificateAuthority.BuildNameConstraints(Names, Addresses).RawData, constraints.RawData);
        Assert.Equal(authority.RawData, X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(_directory, LocalCertificateAuthority.CertificateFileName))).RawData);

        // A second start reuses the key and the certificate.
        using var again = LocalCertificateAuthority.LoadOrCreate(_directory, "Desk", Addresses, Names, TimeSpan.FromDays(7), TimeProvider.System);
        Assert.Equal(authority.RawData, again.Authority.RawData);
    }

    /// <summary>The serving certificate chains to the CA (custom root trust), names this desktop, and is short-lived;
    /// it is kept until two thirds of its lifetime have passed, then a new one (new key) is issued.</summary>
    [Fact]
    [Trait("Issue10", "renewal")]
    public void ServingCertificate_KeptUntilTwoThirdsOfLifetime_ThenRenewed()
    {
        var time = AtlasTestHost.NewFakeTime();
        using var ca = LocalCertificateAuthority.LoadOrCreate(_directory, "Desk", Addresses, Names, TimeSpan.FromDays(6), time);

        var first = ca.ServingCertificate(Addresses, Names, time.GetUtcNow());
        Assert.True(first.HasPrivateKey);
        Assert.True(first.NotAfter.ToUniversalTime() - time.GetUtcNow().UtcDateTime <= TimeSpan.FromDays(6));
        Assert.True(ChainsTo(first, ca.Authority, time.GetUtcNow()));
        Assert.Contains("192.168.1.20", SubjectAlternativeNames(first));
        time.Advance(TimeSpan.FromDays(3.9));
        Assert.Same(first, ca.ServingCertificate(Addresses, Names, time.GetUtcNow()));

        time.Advance(TimeSpan.FromDays(0.2));
        var renewed = ca.ServingCertificate(Addresses, Names, time.GetUtcNow());
        Assert.NotSame(first, renewed);
        Assert.True(renewed.NotAfter > first.NotAfter);
        Assert.NotEqual(SpkiPin.Compute(first), SpkiPin.Compute(renewed));
        Assert.True(ChainsTo(renewed, ca.Authority, time.GetUtcNow()));
    }

    /// <summary>A new LAN address: the serving certificate is re-issued naming it, the CA certificate is re-issued (same
    /// key, so the same pin) so its constraints permit it, and the chain still validates.</summary>
    [Fact]
    [Trait("Issue10", "renewal")]
    public void ServingCertificate_AddressChanged_ReissuedAndCaCoversIt_PinUnchanged()
    {
        var time = AtlasTestHost.NewFakeTime();
        using var ca = LocalCertificateAuthority.LoadOrCreate(_directory, "Desk", Addresses, Names, TimeSpan.FromDays(7), time);
        var pin = SpkiPin.Compute(ca.Authority);
        var first = ca.ServingCertificate(Addresses, Names, time.GetUtcNow());

        IPAddress[] moved = [IPAddress.Parse("10.0.0.7"), IPAddress.IPv6Loopback];
        var second = ca.ServingCertificate(moved, Names, time.GetUtcNow());

        Assert.NotSame(first, second);
        Assert.Contains("10.0.0.7", SubjectAlternativeNames(second));
        Assert.DoesNotContain("192.168.1.20", SubjectAlternativeNames(second));
        Assert.Equal(pin, SpkiPin.Compute(ca.Authority));
        Assert.Contains(IPAddress.Parse("10.0.0.7"), LocalCertificateAuthority.ReadNameConstraints(ca.Authority).Addresses);
        Assert.True(ChainsTo(second, ca.Authority, time.GetUtcNow()));
    }

    /// <summary>The constraints hold: a certificate for a name and an address outside them, signed with the same CA key,
    /// does not validate, and the pinned-CA check of Atlas.Client refuses it.</summary>
    [Fact]
    [Trait("Issue10", "ca")]
    public void Constraints_CertificateOutsideThem_SignedBySameCa_IsRefused()
    {
        using var ca = LocalCertificateAuthority.LoadOrCreate(_directory, "Desk", Addresses, Names, TimeSpan.FromDays(7), TimeProvider.System);
        using var caKey = ECDsa.Create();
        caKey.ImportFromPem(File.ReadAllText(Path.Combine(_directory, LocalCertificateAuthority.KeyFileName)));
        using var outside = TrustedOriginCertificates.IssueLeaf(ca.Authority, caKey, "bank.example", IPAddress.Parse("192.168.1.21"));
        using var inside = TrustedOriginCertificates.IssueLeaf(ca.Authority, caKey, "desk.local", IPAddress.Parse("192.168.1.20"));
        var now = DateTimeOffset.UtcNow;

        Assert.False(ChainsTo(outside, ca.Authority, now));
        Assert.True(ChainsTo(inside, ca.Authority, now));
        var pin = SpkiPin.Compute(ca.Authority);
        Assert.False(SpkiPin.Matches(outside, ServerChain(ca.Authority), pin));
        Assert.True(SpkiPin.Matches(inside, ServerChain(ca.Authority), pin));
        Assert.False(SpkiPin.Matches(inside, null, pin));
    }

    /// <summary>Rotation makes a new CA key (the pin changes, the old key file is gone); turning trusted mode off deletes
    /// the CA key and certificate and goes back to the self-signed pin.</summary>
    [Fact]
    [Trait("Issue10", "rotation")]
    public void DesktopIdentity_RotateAndModeOff_ChangeThePin_AndDeleteTheOldCaKey()
    {
        using var identity = DesktopIdentity.Load(_directory, new CertificateOptions(), DesktopIdentity.LocalCaMode, "Desk", Addresses, Names,
            TimeSpan.FromDays(7), TimeProvider.System);
        var keyPath = Path.Combine(_directory, LocalCertificateAuthority.KeyFileName);
        var caPin = identity.Pin;
        var oldKey = File.ReadAllText(keyPath);
        Assert.Equal(SpkiPin.Compute(identity.Authority!), caPin);
        Assert.NotEqual(SpkiPin.Compute(identity.Certificate), caPin);
        var changed = 0;
        identity.Changed += () => changed++;

        identity.RotateAuthority();
        Assert.NotEqual(caPin, identity.Pin);
        Assert.NotEqual(oldKey, File.ReadAllText(keyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        Assert.True(ChainsTo(identity.Certificate, identity.Authority!, DateTimeOffset.UtcNow));

        Assert.True(identity.SetMode(DesktopIdentity.SelfSignedMode));
        Assert.Null(identity.Authority);
        Assert.False(File.Exists(keyPath));
        Assert.False(File.Exists(Path.Combine(_directory, LocalCertificateAuthority.CertificateFileName)));
        Assert.Equal(SpkiPin.Compute(identity.Certificate), identity.Pin);
        Assert.Equal(DesktopIdentity.SelfSignedMode, DesktopIdentity.StoredMode(_directory));
        Assert.Equal(2, changed);
        Assert.Throws<InvalidOperationException>(identity.RotateAuthority);
    }

    private static X509Chain ServerChain(X509Certificate2 authority)
    {
        var chain = new X509Chain();
        chain.ChainPolicy.ExtraStore.Add(authority);
        return chain;
    }

    internal static bool ChainsTo(X509Certificate2 leaf, X509Certificate2 authority, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        return chain.Build(leaf);
    }

    private static List<string> SubjectAlternativeNames(X509Certificate2 certificate)
    {
        var san = Assert.IsType<X509SubjectAlternativeNameExtension>(certificate.Extensions["2.5.29.17"]);
        return [.. san.EnumerateDnsNames(), .. san.EnumerateIPAddresses().Select(a => a.ToString())];
    }
}
