using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Atlas.Desktop.Auth;

/// <summary>Random secrets and their hashes. Secrets have 256 bits of entropy, so a plain SHA-256 is the right hash
/// (no password stretching needed); only hashes are stored.</summary>
internal static class Secrets
{
    public const string SessionPrefix = "st_";

    public static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string NewDeviceId() => "dev_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static bool HashEquals(byte[] expected, string presented) =>
        CryptographicOperations.FixedTimeEquals(expected, Hash(presented));

    public static bool LooksLikeSecret(string? value) =>
        value is { Length: 43 } && Base64Url.IsValid(value, out var length) && length == 32;

    /// <summary>Device credentials are <c>&lt;deviceId&gt;.&lt;secret&gt;</c>: the id finds the row, the secret is
    /// compared to its hash in constant time.</summary>
    public static bool TrySplitCredential(string? credential, out string deviceId, out string secret)
    {
        deviceId = secret = "";
        if (credential is null || credential.Length > 128)
        {
            return false;
        }

        var dot = credential.LastIndexOf('.');
        if (dot <= 0)
        {
            return false;
        }

        deviceId = credential[..dot];
        secret = credential[(dot + 1)..];
        return deviceId.StartsWith("dev_", StringComparison.Ordinal) && LooksLikeSecret(secret);
    }
}
