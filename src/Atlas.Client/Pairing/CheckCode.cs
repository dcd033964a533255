using System.Security.Cryptography;
using System.Text;

namespace Atlas.Client.Pairing;

/// <summary>The short check code both screens show during pairing.</summary>
/// <remarks>
/// Six decimal digits of SHA-256 over the desktop pin, the ticket and the device's nonce. The desktop computes it
/// from what it received; a native client computes it from what it sent and checks that the desktop agrees, so the
/// person approving can match the request on the desktop with the phone in their hand.
/// </remarks>
public static class CheckCode
{
    /// <summary>Computes the check code.</summary>
    /// <param name="pin">The desktop's SPKI pin.</param>
    /// <param name="ticket">The pairing ticket being redeemed.</param>
    /// <param name="clientNonce">The device's nonce (may be empty).</param>
    /// <returns>Six digits.</returns>
    public static string Compute(string pin, string ticket, string clientNonce)
    {
        ArgumentNullException.ThrowIfNull(pin);
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(clientNonce);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"atlas-check-v1\n{pin}\n{ticket}\n{clientNonce}"));
        var value = (((uint)hash[0] << 24) | ((uint)hash[1] << 16) | ((uint)hash[2] << 8) | hash[3]) % 1_000_000u;
        return value.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }
}
