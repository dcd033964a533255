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
    private readonly MetadataRetriever? _metadata;

    public OAuthResourceServer(IOptions<MmcpGatewayOptions> options, ILogger<OAuthResourceServer> logger)
    {
        _options = options.Value;
        _logger = logger;
        if (_options.OAuthIssuer is { } issuer && Uri.TryCreate(issuer, UriKind.Absolute, out var uri))
        {
            _metadata = new MetadataRetriever(logger);
            _parameters = Parameters(issuer, IsLoopback(uri), _metadata);
        }
    }

    /// <summary>
    /// Fetches the issuer's metadata and keys once (at startup), so that an unreachable issuer, or metadata naming
    /// another issuer, is reported in the log at once instead of at the first token.
    /// </summary>
    /// <param name="cancellationToken">Cancels the fetch.</param>
    /// <returns>Whether the metadata and keys were found.</returns>
    public async Task<bool> CheckIssuerAsync(CancellationToken cancellationToken)
    {
        if (_parameters?.ConfigurationManager is not { } manager)
        {
            return true;
        }

        try
        {
            await manager.GetBaseConfigurationAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or HttpRequestException or ArgumentException)
        {
            // A metadata mismatch was logged where it was found; anything else is said here.
            if (MetadataProblem(ex) is null)
            {
                Log.IssuerUnreachable(_logger, _options.OAuthIssuer!, Innermost(ex).Message);
            }

            return false;
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
    private static TokenValidationParameters Parameters(string issuer, bool loopback, MetadataRetriever metadata)
    {
        var trimmed = issuer.TrimEnd('/');

        // A loopback issuer is this machine: plain http, and never through a proxy. The metadata is RFC 8414's or,
        // failing that, OpenID discovery's (MetadataRetriever), and must name exactly the configured issuer.
        var http = new HttpClient(loopback ? new SocketsHttpHandler { UseProxy = false } : new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(30) };
        var configuration = new ConfigurationManager<OpenIdConnectConfiguration>(
            issuer,
            metadata,
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

        if (algorithm is not null && (MetadataProblem(failure)?.Message ?? _metadata?.Problem) is { } problem)
        {
            return problem;
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

    private static MetadataException? MetadataProblem(Exception? failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            if (e is MetadataException found)
            {
                return found;
            }
        }

        return null;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }

    /// <summary>Whether two issuer identifiers are the same (RFC 8414 §3.3: identical; an empty path and <c>/</c> are the same URL).</summary>
    internal static bool SameIssuer(string configured, string? published)
    {
        static string Normal(string value) =>
            Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.AbsolutePath == "/" && !value.EndsWith('/') && uri.Query.Length == 0 ? value + "/" : value;

        return published is not null && string.Equals(Normal(configured), Normal(published), StringComparison.Ordinal);
    }

    /// <summary>
    /// The issuer's metadata: RFC 8414 (<c>/.well-known/oauth-authorization-server</c>, with the issuer's path after
    /// it) first, then OpenID discovery (<c>/.well-known/openid-configuration</c>, after and before the path), the
    /// first that answers; its <c>issuer</c> must be the configured issuer (else the keys could be another server's),
    /// and its <c>jwks_uri</c> gives the signing keys.
    /// </summary>
    private sealed class MetadataRetriever(ILogger logger) : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        /// <summary>Gets why the last metadata fetched cannot be used, or <see langword="null"/> (the token handler does not pass the reason on).</summary>
        public string? Problem { get; private set; }

        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            var issuer = new Uri(address);
            var authority = issuer.GetLeftPart(UriPartial.Authority);
            var path = issuer.AbsolutePath.TrimEnd('/');
            string[] candidates = [
                $"{authority}/.well-known/oauth-authorization-server{path}",
                $"{authority}/.well-known/openid-configuration{path}",
                .. path.Length > 0 ? [$"{authority}{path}/.well-known/openid-configuration"] : Array.Empty<string>()];
            var tried = new List<string>();
            foreach (var url in candidates)
            {
                string document;
                try
                {
                    document = await retriever.GetDocumentAsync(url, cancel).ConfigureAwait(false);
                }
                catch (IOException ex)
                {
                    tried.Add($"{url} ({Innermost(ex).Message})");
                    continue;
                }

                var configuration = OpenIdConnectConfiguration.Create(document);
                if (!SameIssuer(address, configuration.Issuer))
                {
                    var message = $"The authorization server metadata at {url} names the issuer '{configuration.Issuer}', not '{address}' (mmcp serve --oauth-issuer): its tokens are refused. Give --oauth-issuer exactly the issuer the server publishes, or fix the server's issuer.";
                    Log.IssuerMismatch(logger, url, configuration.Issuer ?? "(none)", address);
                    Problem = message;
                    throw new MetadataException(message);
                }

                if (string.IsNullOrEmpty(configuration.JwksUri))
                {
                    Problem = $"The authorization server metadata at {url} has no jwks_uri, so the signatures of {address}'s tokens cannot be checked.";
                    throw new MetadataException($"The authorization server metadata at {url} has no jwks_uri, so the signatures of {address}'s tokens cannot be checked.");
                }

                var keys = new JsonWebKeySet(await retriever.GetDocumentAsync(configuration.JwksUri, cancel).ConfigureAwait(false));
                configuration.JsonWebKeySet = keys;
                foreach (var key in keys.GetSigningKeys())
                {
                    configuration.SigningKeys.Add(key);
                }

                Problem = null;
                return configuration;
            }

            throw new IOException($"No authorization server metadata for {address}: tried {string.Join("; ", tried)}.");
        }
    }

    /// <summary>The issuer's metadata cannot be used (another issuer, no keys).</summary>
    private sealed class MetadataException(string message) : InvalidOperationException(message);

    internal static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>A header-safe quoted-string body: ASCII only (Kestrel refuses the rest), no quotes or backslashes.</summary>
    private static string Quoted(string text) =>
        string.Concat(text.Replace("\u2026", "...", StringComparison.Ordinal).Select(c => c is '"' ? '\'' : c is '\\' ? '/' : c is < ' ' or > '~' ? '?' : c));

    private static partial class Log
    {
        [LoggerMessage(4701, LogLevel.Information, "Refused an OAuth access token on {Path}: {Reason}")]
        public static partial void Refused(ILogger logger, PathString path, string reason);

        [LoggerMessage(4702, LogLevel.Error, "The authorization server metadata at {Url} names the issuer '{Published}', not '{Configured}' (mmcp serve --oauth-issuer): its tokens are refused. Give --oauth-issuer exactly the issuer the server publishes, or fix the server's issuer.")]
        public static partial void IssuerMismatch(ILogger logger, string url, string published, string configured);

        [LoggerMessage(4703, LogLevel.Warning, "The OAuth issuer {Issuer} could not be reached at startup ({Reason}); its tokens are refused until its metadata and keys can be fetched.")]
        public static partial void IssuerUnreachable(ILogger logger, string issuer, string reason);
    }
}
