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
