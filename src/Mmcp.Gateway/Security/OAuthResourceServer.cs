using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using ModelContextProtocol;
using ModelContextProtocol.Authentication;

namespace Mmcp.Gateway.Security;

/// <summary>
/// The gateway as an OAuth protected resource (<see cref="MmcpGatewayOptions.OAuthIssuer"/>): JWT access tokens from
/// that issuer are validated by Microsoft.IdentityModel's <see cref="JsonWebTokenHandler"/>, the engine of ASP.NET
/// Core's JwtBearer handler, with the same configuration manager (issuer and signing keys from the issuer's discovery
/// document and JWKS, refreshed when a new key id appears): issuer, audience (the gateway's resource URL, RFC 8707),
/// expiry and asymmetric signatures only. The protected resource metadata (RFC 9728) is served at
/// <c>/.well-known/oauth-protected-resource</c>, and every 401 names it in <c>WWW-Authenticate</c>.
/// </summary>
/// <remarks>
/// Not the JwtBearer authentication scheme itself: a host with a single authentication scheme makes it the default,
/// and <c>WebApplication</c> then adds the authentication middleware on its own, which would run the handler on every
/// request of the host app (Atlas included) before the gateway's guard, and cache its answer. The MCP SDK's
/// <c>AddMcp</c> handler has the same pipeline needs; its <see cref="ProtectedResourceMetadata"/> model and JSON
/// contract are used for the document.
/// </remarks>
internal sealed partial class OAuthResourceServer
{
    /// <summary>Where the protected resource metadata is served (RFC 9728 §3), optionally followed by the resource's path.</summary>
    public const string MetadataPath = "/.well-known/oauth-protected-resource";

    private readonly MmcpGatewayOptions _options;
    private readonly ILogger _logger;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters? _parameters;

    public OAuthResourceServer(IOptions<MmcpGatewayOptions> options, ILogger<OAuthResourceServer> logger)
    {
        _options = options.Value;
        _logger = logger;
        if (_options.OAuthIssuer is { } issuer && Uri.TryCreate(issuer, UriKind.Absolute, out var uri))
        {
            _parameters = Parameters(issuer, IsLoopback(uri));
        }
    }

    /// <summary>Gets a value indicating whether OAuth access tokens are accepted.</summary>
    public bool Enabled => _options.OAuthIssuer is not null;

    /// <summary>The scopes an OAuth token may grant (every gateway scope but <c>*</c>).</summary>
    public static IReadOnlyList<string> SupportedScopes { get; } = [.. GatewayScopes.Known.Where(s => s != GatewayScopes.All)];

    /// <summary>The resource URL (the audience tokens must carry): the configured one, or this gateway's origin as the client reached it.</summary>
    public string ResourceFor(HttpRequest request) => _options.OAuthAudience ?? $"{request.Scheme}://{request.Host.Value}";

    /// <summary>The metadata URL for the resource a request reached (RFC 9728 §3.1: the well-known path, then the resource's path).</summary>
    public string MetadataUrlFor(HttpRequest request)
    {
        var resource = new Uri(ResourceFor(request));
        var path = resource.AbsolutePath.TrimEnd('/');
        return $"{resource.GetLeftPart(UriPartial.Authority)}{MetadataPath}{path}";
    }

    /// <summary>The <c>WWW-Authenticate</c> value of a refusal (RFC 6750 §3 with RFC 9728's <c>resource_metadata</c>).</summary>
    public string Challenge(HttpRequest request, string? error = null, string? description = null, string? scope = null)
    {
        var parts = new List<string>();
        if (error is not null)
        {
            parts.Add($"error=\"{error}\"");
        }

        if (description is not null)
        {
            parts.Add($"error_description=\"{Quoted(description)}\"");
        }

        if (scope is not null)
        {
            parts.Add($"scope=\"{scope}\"");
        }

        parts.Add($"resource_metadata=\"{MetadataUrlFor(request)}\"");
        return "Bearer " + string.Join(", ", parts);
    }

    /// <summary>Serves the protected resource metadata (RFC 9728).</summary>
    public async Task WriteMetadataAsync(HttpContext context)
    {
        var metadata = new ProtectedResourceMetadata
        {
            Resource = ResourceFor(context.Request),
            AuthorizationServers = [_options.OAuthIssuer!],
            ScopesSupported = [.. SupportedScopes],
            BearerMethodsSupported = ["header"],
            ResourceName = _options.ServerName,
        };
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, metadata, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ProtectedResourceMetadata)), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Validates an OAuth access token presented on a request.</summary>
    /// <returns>The caller, or the reason the token is refused (never the token itself).</returns>
    public async Task<(GatewayCaller? Caller, string? Error)> AuthenticateAsync(HttpContext context, string secret)
    {
        var resource = ResourceFor(context.Request);
        var parameters = _parameters!.Clone();
        parameters.ValidAudience = resource;
        TokenValidationResult result;
        try
        {
            result = await _handler.ValidateTokenAsync(secret, parameters).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException or InvalidOperationException or HttpRequestException)
        {
            result = new TokenValidationResult { IsValid = false, Exception = ex };
        }

        if (result.IsValid && result.ClaimsIdentity is { } identity)
        {
            return (CallerOf(new ClaimsPrincipal(identity), result.SecurityToken?.ValidTo is { } to && to != DateTime.MinValue ? new DateTimeOffset(to, TimeSpan.Zero) : null), null);
        }

        var error = Describe(result.Exception, secret, resource);
        Log.Refused(_logger, context.Request.Path, error);
        return (null, error);
    }

    /// <summary>How every token is checked; the audience is set per request.</summary>
    private static TokenValidationParameters Parameters(string issuer, bool loopback)
    {
        var trimmed = issuer.TrimEnd('/');

        // A loopback issuer is this machine: plain http, and never through a proxy.
        var http = new HttpClient(loopback ? new SocketsHttpHandler { UseProxy = false } : new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(30) };
        var configuration = new ConfigurationManager<OpenIdConnectConfiguration>(
            trimmed + "/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(http) { RequireHttps = !loopback });
        return new TokenValidationParameters
        {
            ConfigurationManager = configuration,
            ValidIssuers = [trimmed, trimmed + "/"],
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = TimeSpan.FromMinutes(1),
            ValidAlgorithms = [
                SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
                SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
                SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512],
            NameClaimType = "sub",
        };
    }

    private static GatewayCaller CallerOf(ClaimsPrincipal principal, DateTimeOffset? expires)
    {
        var subject = principal.FindFirstValue("sub") ?? "?";
        var client = principal.FindFirstValue("client_id") ?? principal.FindFirstValue("azp") ?? "oauth";
        var granted = principal.FindAll("scope").SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Concat(principal.FindAll("scp").Select(c => c.Value));
        var scopes = granted.Where(s => SupportedScopes.Contains(s, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        return GatewayCaller.ForToken(new GatewayToken("oauth:" + subject, client, scopes, DateTimeOffset.UnixEpoch, expires));
    }

    /// <summary>Says why a token was refused, in words that say what to do; built from the failure's type, never from the token.</summary>
    private string Describe(Exception? failure, string secret, string resource)
    {
        var issuer = _options.OAuthIssuer;
        var algorithm = AlgorithmOf(secret);
        if (algorithm is not null && (algorithm.Equals("none", StringComparison.OrdinalIgnoreCase) || algorithm.StartsWith("HS", StringComparison.OrdinalIgnoreCase)))
        {
            return $"The access token is signed with '{algorithm}', which this gateway never accepts (unsigned and shared-secret tokens are refused; it accepts RS*, PS* and ES* signatures from {issuer}).";
        }

        return failure switch
        {
            null when algorithm is null => "The bearer token is neither a gateway token (mmcp_…) nor a JWT access token.",
            SecurityTokenExpiredException expired => $"The access token expired at {expired.Expires.ToString("O", CultureInfo.InvariantCulture)}. Get a new one from {issuer} (refresh it, or sign in again).",
            SecurityTokenNotYetValidException => "The access token is not valid yet (nbf is in the future); check the clocks of this machine and the authorization server.",
            SecurityTokenInvalidAudienceException audience => $"The access token is for another resource ({(string.IsNullOrEmpty(audience.InvalidAudience) ? "no aud" : "aud " + audience.InvalidAudience)}); this gateway is '{resource}'. Ask {issuer} for a token with resource={resource}.",
            SecurityTokenInvalidIssuerException => $"The access token was not issued by {issuer}, the only issuer this gateway accepts (mmcp serve --oauth-issuer).",
            SecurityTokenInvalidAlgorithmException => $"The access token's signing algorithm ('{algorithm}') is not accepted; use RS*, PS* or ES*.",
            SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => $"The access token's signature does not verify with the keys {issuer} publishes (its JWKS).",
            SecurityTokenNoExpirationException => "The access token has no expiry (exp); the gateway accepts only tokens that expire.",
            SecurityTokenMalformedException or SecurityTokenException when algorithm is null => "The bearer token is neither a gateway token (mmcp_…) nor a well-formed JWT access token.",
            InvalidOperationException or HttpRequestException => $"The gateway could not fetch the signing keys of {issuer} (its discovery document or JWKS); check that the issuer is reachable.",
            _ => "The access token is not valid for this gateway.",
        };
    }

    private static string? AlgorithmOf(string secret)
    {
        try
        {
            return new JsonWebToken(secret).Alg;
        }
        catch (ArgumentException)
        {
            return null; // not a JWT (SecurityTokenMalformedException is one)
        }
    }

    internal static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>A header-safe quoted-string body: ASCII only (Kestrel refuses the rest), no quotes or backslashes.</summary>
    private static string Quoted(string text) =>
        string.Concat(text.Replace("\u2026", "...", StringComparison.Ordinal).Select(c => c is '"' ? '\'' : c is '\\' ? '/' : c is < ' ' or > '~' ? '?' : c));

    private static partial class Log
    {
        [LoggerMessage(4701, LogLevel.Information, "Refused an OAuth access token on {Path}: {Reason}")]
        public static partial void Refused(ILogger logger, PathString path, string reason);
    }
}
