using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Atlas.Client.Pairing;

/// <summary>Certificate pins: base64url(SHA-256(SubjectPublicKeyInfo)).</summary>
/// <remarks>
/// The pin covers the public key, not the certificate, so re-issuing a certificate with the same key keeps every
/// paired device working; rotating the key deliberately breaks them.
/// </remarks>
public static class SpkiPin
{
    /// <summary>The OID of the non-critical extension in which an Atlas desktop in trusted mode puts its CA certificate (DER)
    /// inside every serving certificate. TLS stacks leave a self-signed root out of the chain they send, so this is how a
    /// pinning client gets the CA whose SPKI the QR code pins (a UUID-based OID, <c>2.25.*</c>; browsers ignore it).</summary>
    public const string AuthorityExtensionOid = "2.25.21757955387011091006270457993961712003";

    /// <summary>Computes the pin of <paramref name="certificate"/>.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <returns>The base64url pin (43 characters).</returns>
    public static string Compute(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var spki = certificate.PublicKey.ExportSubjectPublicKeyInfo();
        return Base64Url.EncodeToString(SHA256.HashData(spki));
    }

    /// <summary>Whether <paramref name="certificate"/> has the pin <paramref name="expectedPin"/> (constant time).</summary>
    /// <param name="certificate">The certificate the server presented, or <see langword="null"/>.</param>
    /// <param name="expectedPin">The pin from the QR link.</param>
    /// <returns><see langword="true"/> only when the pins are equal.</returns>
    public static bool Matches(X509Certificate? certificate, string expectedPin)
    {
        ArgumentNullException.ThrowIfNull(expectedPin);
        if (certificate is null)
        {
            return false;
        }

        using var owned = certificate is X509Certificate2 ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var actual = Compute(owned ?? (X509Certificate2)certificate);
        return CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(actual), System.Text.Encoding.ASCII.GetBytes(expectedPin));
    }

    /// <summary>Whether the server's certificate is pinned by <paramref name="expectedPin"/>: either its own key has the pin
    /// (quick mode: the desktop's self-signed certificate), or a CA certificate has the pin and the chain from the server's
    /// certificate to it is valid: signature, validity period, CA basic constraints and the CA's name constraints (trusted
    /// mode: the desktop's local CA, taken from the <see cref="AuthorityExtensionOid"/> extension of the server's
    /// certificate or from what the server sent along; neither is trusted before its SPKI matched the pin). Names are not compared with the address dialled; the
    /// pin, not a name, identifies the desktop.</summary>
    /// <param name="certificate">The certificate the server presented, or <see langword="null"/>.</param>
    /// <param name="chain">The chain the TLS stack built (its extra store holds what the server sent), or <see langword="null"/>.</param>
    /// <param name="expectedPin">The pin from the QR link.</param>
    /// <returns><see langword="true"/> when the server's certificate or its pinned CA matches.</returns>
    public static bool Matches(X509Certificate? certificate, X509Chain? chain, string expectedPin)
    {
        ArgumentNullException.ThrowIfNull(expectedPin);
        if (certificate is null)
        {
            return false;
        }

        if (Matches(certificate, expectedPin))
        {
            return true;
        }

        using var owned = certificate is X509Certificate2 ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var leaf = owned ?? (X509Certificate2)certificate;
        using var embedded = EmbeddedAuthority(leaf);
        var candidates = new List<X509Certificate2>();
        if (embedded is not null)
        {
            candidates.Add(embedded);
        }

        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                candidates.Add(element.Certificate);
            }

            candidates.AddRange(chain.ChainPolicy.ExtraStore);
        }

        var authority = candidates.FirstOrDefault(c => Matches(c, expectedPin));
        if (authority is null)
        {
            return false;
        }

        using var verify = new X509Chain();
        verify.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        verify.ChainPolicy.CustomTrustStore.Add(authority);
        verify.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        verify.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        verify.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        try
        {
            return verify.Build(leaf)
                && verify.ChainElements.Count == 2
                && verify.ChainElements[1].Certificate.RawData.AsSpan().SequenceEqual(authority.RawData);
        }
        finally
        {
            foreach (var element in verify.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    private static X509Certificate2? EmbeddedAuthority(X509Certificate2 leaf)
    {
        if (leaf.Extensions[AuthorityExtensionOid] is not { } extension)
        {
            return null;
        }

        try
        {
            return X509CertificateLoader.LoadCertificate(extension.RawData);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Formats a pin for people to compare: hex groups of four, for example <c>3F2A-91C0-…</c> (first 16 bytes).</summary>
    /// <param name="pin">The base64url pin.</param>
    /// <returns>The grouped fingerprint, or the pin itself when it is not valid base64url.</returns>
    public static string ToDisplay(string pin)
    {
        ArgumentNullException.ThrowIfNull(pin);
        Span<byte> bytes = stackalloc byte[32];
        if (!Base64Url.TryDecodeFromChars(pin, bytes, out var written) || written != 32)
        {
            return pin;
        }

        var hex = Convert.ToHexString(bytes[..16]);
        return string.Join('-', Enumerable.Range(0, 8).Select(i => hex.Substring(i * 4, 4)));
    }
}
