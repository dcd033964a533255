using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Atlas.Desktop.Tests.Infrastructure;

/// <summary>Helpers for trusted-mode tests: a leaf certificate signed with a CA key (to try names outside the CA's
/// constraints), and a browser HOME whose NSS database trusts a CA (Debian's certutil, as a user would import it).</summary>
internal static class TrustedOriginCertificates
{
    public const string CertUtil = "/usr/bin/certutil";

    public static X509Certificate2 IssueLeaf(X509Certificate2 authority, ECDsa authorityKey, string dnsName, IPAddress address)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + dnsName, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        san.AddIpAddress(address);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        using var issuer = authority.CopyWithPrivateKey(authorityKey);
        var now = DateTimeOffset.UtcNow;
        using var leaf = request.Create(issuer, now.AddMinutes(-5), now.AddDays(7), RandomNumberGenerator.GetBytes(12));
        return leaf.CopyWithPrivateKey(key);
    }

    /// <summary>Makes <c>HOME/.pki/nssdb</c> (where Chromium on Linux keeps user-trusted roots) and imports
    /// <paramref name="authority"/> as trusted for websites (<c>-t "C,,"</c>).</summary>
    public static async Task<string> BrowserHomeTrustingAsync(X509Certificate2 authority, CancellationToken cancellationToken)
    {
        var home = Directory.CreateTempSubdirectory("atl-home-").FullName;
        var database = Path.Combine(home, ".pki", "nssdb");
        Directory.CreateDirectory(database);
        var pem = Path.Combine(home, "atlas-ca.crt");
        await File.WriteAllTextAsync(pem, authority.ExportCertificatePem(), cancellationToken);
        await RunAsync(["-N", "-d", "sql:" + database, "--empty-password"], cancellationToken);
        await RunAsync(["-A", "-d", "sql:" + database, "-n", "Atlas test CA", "-t", "C,,", "-i", pem], cancellationToken);
        return home;
    }

    private static async Task RunAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(CertUtil) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        _ = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        Assert.True(process.ExitCode == 0, $"certutil {string.Join(' ', arguments)} failed: {await error}");
    }
}
