using System.Security.Claims;

namespace Mmcp.Gateway.Security;

/// <summary>Who is calling: a token (with its scopes), or a local caller on loopback where no token is required.</summary>
internal sealed class GatewayCaller
{
    public const string AuthenticationType = "mmcp-token";
    public const string ScopeClaim = "scope";
    private static readonly ClaimsPrincipal LocalPrincipal = new(new ClaimsIdentity());

    private GatewayCaller(string name, GatewayToken? token)
    {
        Name = name;
        Token = token;
    }

    public static GatewayCaller Local { get; } = new("local", null);

    /// <summary>Gets how the audit log names the caller.</summary>
    public string Name { get; }

    public GatewayToken? Token { get; }

    public static GatewayCaller ForToken(GatewayToken token) => new($"token:{token.Id} ({token.Name})", token);

    public bool HasScope(string scope) => Token is null || Token.HasScope(scope);

    public ClaimsPrincipal ToPrincipal()
    {
        if (Token is null)
        {
            return LocalPrincipal;
        }

        var identity = new ClaimsIdentity(AuthenticationType, ClaimTypes.NameIdentifier, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, Token.Id));
        identity.AddClaim(new Claim(ClaimTypes.Name, Token.Name));
        foreach (var scope in Token.Scopes)
        {
            identity.AddClaim(new Claim(ScopeClaim, scope));
        }

        return new ClaimsPrincipal(identity);
    }

    /// <summary>Recovers the caller of an MCP request from the principal the guard put on the HTTP request (an unauthenticated principal means a local caller the guard let through).</summary>
    public static GatewayCaller FromPrincipal(ClaimsPrincipal? user)
    {
        if (user?.Identity is not { IsAuthenticated: true, AuthenticationType: AuthenticationType } identity)
        {
            return Local;
        }

        var token = new GatewayToken(
            user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "?",
            identity.Name ?? string.Empty,
            [.. user.FindAll(ScopeClaim).Select(c => c.Value)],
            DateTimeOffset.UnixEpoch,
            null);
        return ForToken(token);
    }
}
