using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Mmcp.Gateway;

/// <summary>
/// Per-process facts about a running gateway. <see cref="InspectToken"/> is a secret made at start-up that carries the
/// <c>inspect</c> scope: <c>mmcp serve</c> writes it to its runtime file (mode 0600) so <c>mmcp inspect</c> can watch
/// traffic without a stored token.
/// </summary>
public sealed class GatewayRuntime
{
    private readonly byte[] _inspectHash;

    /// <summary>Initializes a new instance of the <see cref="GatewayRuntime"/> class.</summary>
    public GatewayRuntime()
    {
        InspectToken = "mmcp_inspect_" + WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        _inspectHash = SHA256.HashData(Encoding.UTF8.GetBytes(InspectToken));
    }

    /// <summary>Gets this process's inspect secret.</summary>
    public string InspectToken { get; }

    internal bool IsInspectSecret(string secret) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), _inspectHash);
}
