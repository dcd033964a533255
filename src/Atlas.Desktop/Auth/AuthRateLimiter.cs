using System.Threading.RateLimiting;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Auth;

/// <summary>Per-address limits of <c>POST /auth</c>: one for credential grants (<c>Atlas:RateLimits:AuthPerMinute</c>),
/// another for ticket redemptions and malformed requests (<c>Atlas:RateLimits:PairingPerMinute</c>), so junk tickets
/// from an address never hold up a valid credential grant from it. The grant type is in the body, so the limits are
/// taken in the endpoint rather than by the rate-limiting middleware.</summary>
internal sealed class AuthRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _grants;
    private readonly PartitionedRateLimiter<string> _pairing;

    public AuthRateLimiter(IOptions<AtlasOptions> options)
    {
        _grants = PerAddress(options.Value.RateLimits.AuthPerMinute);
        _pairing = PerAddress(options.Value.RateLimits.PairingPerMinute);
    }

    public RateLimitLease Acquire(bool credentialGrant, string address) =>
        (credentialGrant ? _grants : _pairing).AttemptAcquire(address);

    public void Dispose()
    {
        _grants.Dispose();
        _pairing.Dispose();
    }

    private static PartitionedRateLimiter<string> PerAddress(int perMinute) =>
        PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
}
