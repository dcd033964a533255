using System.Text.Json.Nodes;
using System.Web;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mmcp.Client.Connectors;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol;
using ModelContextProtocol.Authentication;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Authorization;

/// <summary>
/// The interactive sign-in to a remote server (<c>mmcp auth login</c>, the Atlas admin's "Sign in"): the MCP SDK runs
/// the OAuth 2.1 flow (protected resource and authorization server metadata, dynamic client registration, PKCE S256,
/// resource indicator); this class supplies the loopback redirect (RFC 8252), opens the authorization page through
/// the caller, keeps the tokens in the user's <see cref="OAuthTokenStore"/>, and signs out (revoking at the
/// authorization server when it offers revocation).
/// </summary>
public sealed class RemoteSignIn
{
    private readonly OAuthTokenStore _store;
    private readonly MmcpEnvironment _environment;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;

    /// <summary>Initializes a new instance of the <see cref="RemoteSignIn"/> class.</summary>
    /// <param name="store">Where the tokens are kept.</param>
    /// <param name="environment">The environment (for <c>${env:…}</c> and <c>${input:…}</c> in the server's URL and headers).</param>
    /// <param name="loggerFactory">The logger factory, or <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock of the sign-in's timeout, or <see langword="null"/> for the system clock.</param>
    public RemoteSignIn(OAuthTokenStore store, MmcpEnvironment environment, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(environment);
        _store = store;
        _environment = environment;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Signs in to a remote server in the user's browser and stores the tokens.</summary>
    /// <param name="server">The server (an http server).</param>
    /// <param name="options">The scopes, the way to open the authorization page, the timeout.</param>
    /// <param name="cancellationToken">Cancels the sign-in.</param>
    /// <returns>The stored sign-in, or <see langword="null"/> when the server did not ask for one (nothing is stored).</returns>
    /// <exception cref="HubException">The sign-in failed or timed out; the message says why and what to do.</exception>
    public async Task<OAuthSignIn?> LoginAsync(DiscoveredServer server, RemoteSignInOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(options);
        var endpoint = Endpoint(server, out var transport);
        var extra = options.Scopes.SelectMany(s => s.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)).ToList();
        var granted = _store.Find(server.Id) is { } previous && previous.Url == endpoint ? previous.Scopes : [];

        using var listener = LoopbackRedirectListener.Start();
        var cache = new FileTokenCache(_store, server.Id, endpoint, ignoreExisting: true);
        var oauth = new ClientOAuthOptions
        {
            RedirectUri = listener.RedirectUri,
            TokenCache = cache,
            DynamicClientRegistration = new DynamicClientRegistrationOptions { ClientName = "mmcp" },
            AuthorizationCallbackHandler = async (context, ct) =>
            {
                var state = HttpUtility.ParseQueryString(context.AuthorizationUri.Query)["state"];
                await options.OpenAuthorizationPage(context.AuthorizationUri, ct).ConfigureAwait(false);
                return await listener.WaitAsync(server.Id, state, ct).ConfigureAwait(false);
            },
        };
        if (extra.Count > 0)
        {
            // Step-up: what the sign-in already grants, plus what was asked for (and offline_access when offered).
            oauth.ScopeSelector = candidates =>
            {
                var offline = candidates?.Contains("offline_access", StringComparer.Ordinal) == true ? ["offline_access"] : Array.Empty<string>();
                return [.. granted.Concat(extra).Concat(offline).Distinct(StringComparer.Ordinal)];
            };
        }

        using var timeout = new CancellationTokenSource(options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        var headers = VariableResolver.ResolveAll(transport.Headers, _environment, server, "transport.headers", StringComparer.OrdinalIgnoreCase);
        var http = new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Name = server.Id,
                Endpoint = endpoint,
                AdditionalHeaders = headers,
                TransportMode = transport.LegacySse ? HttpTransportMode.Sse : HttpTransportMode.AutoDetect,
                OAuth = oauth,
            },
            _loggerFactory);
        var clientOptions = new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "mmcp-auth", Version = "1.0" },

            // The first request carries the whole sign-in (the user in the browser): the SDK must not give up on it as
            // a slow 2026-07-28 probe and fall back to initialize mid-flight.
            DiscoverProbeTimeout = options.Timeout,
        };
        await using (http.ConfigureAwait(false))
        {
            try
            {
                var client = await McpClient.CreateAsync(http, clientOptions, _loggerFactory, linked.Token).ConfigureAwait(false);
                await client.DisposeAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new HubException(HubErrorCode.HandshakeTimeout, server.Id, $"The sign-in to '{server.Id}' was not completed within {options.Timeout.TotalSeconds:0} s (no answer came back to {listener.RedirectUri}). Run `mmcp auth login {server.Id}` again; with --no-browser, open the printed URL yourself.");
            }
            catch (Exception ex) when (ex is McpException or HttpRequestException or InvalidOperationException or ArgumentException or System.Text.Json.JsonException)
            {
                if (BackgroundAuthorization.Find(ex) is { } refused)
                {
                    throw refused;
                }

                throw new HubException(HubErrorCode.SignInRequired, server.Id, $"The sign-in to '{server.Id}' failed: {Innermost(ex).Message}", ex);
            }
        }

        return cache.Stored == 0 ? null : _store.Find(server.Id);
    }

    /// <summary>Signs out of a remote server: revokes the refresh token at the authorization server (when it offers revocation) and deletes the stored tokens.</summary>
    /// <param name="serverId">The server.</param>
    /// <param name="cancellationToken">Cancels the revocation (the tokens are deleted anyway).</param>
    /// <returns>What was done.</returns>
    public async Task<OAuthSignOut> LogoutAsync(string serverId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        var entry = _store.Read(serverId);
        if (entry is null)
        {
            return new OAuthSignOut(false, false, null);
        }

        bool revoked = false;
        string? problem = null;
        try
        {
            revoked = await RevokeAsync(entry.Tokens, cancellationToken).ConfigureAwait(false);
            if (!revoked)
            {
                problem = "the authorization server offers no revocation endpoint";
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException or InvalidOperationException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            problem = ex.Message;
        }

        _store.Delete(serverId);
        return new OAuthSignOut(true, revoked, problem);
    }

    private static async Task<bool> RevokeAsync(TokenContainer tokens, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(tokens.AuthorizationServer, UriKind.Absolute, out var issuer))
        {
            return false;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        Uri? revocation = null;
        foreach (var metadata in MetadataUris(issuer))
        {
            using var response = await http.GetAsync(metadata, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode
                && JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)) is JsonObject o
                && Uri.TryCreate((string?)o["revocation_endpoint"], UriKind.Absolute, out var found))
            {
                revocation = found;
                break;
            }
        }

        if (revocation is null)
        {
            return false;
        }

        // RFC 7009: revoking the refresh token ends the grant (and, at most servers, its access tokens).
        var token = string.IsNullOrEmpty(tokens.RefreshToken) ? tokens.AccessToken : tokens.RefreshToken;
        var form = new Dictionary<string, string> { ["token"] = token, ["token_type_hint"] = string.IsNullOrEmpty(tokens.RefreshToken) ? "access_token" : "refresh_token" };
        if (tokens.ClientId is { Length: > 0 } clientId)
        {
            form["client_id"] = clientId;
        }

        if (tokens.ClientSecret is { Length: > 0 } secret)
        {
            form["client_secret"] = secret;
        }

        using var content = new FormUrlEncodedContent(form);
        using var revoke = await http.PostAsync(revocation, content, cancellationToken).ConfigureAwait(false);
        if (!revoke.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"the authorization server answered the revocation with HTTP {(int)revoke.StatusCode}");
        }

        return true;
    }

    private static IEnumerable<Uri> MetadataUris(Uri issuer)
    {
        var authority = issuer.GetLeftPart(UriPartial.Authority);
        var path = issuer.AbsolutePath.Trim('/');
        if (path.Length == 0)
        {
            yield return new Uri(authority + "/.well-known/oauth-authorization-server");
            yield return new Uri(authority + "/.well-known/openid-configuration");
        }
        else
        {
            yield return new Uri($"{authority}/.well-known/oauth-authorization-server/{path}");
            yield return new Uri($"{authority}/.well-known/openid-configuration/{path}");
            yield return new Uri($"{authority}/{path}/.well-known/openid-configuration");
        }
    }

    private Uri Endpoint(DiscoveredServer server, out HttpTransport transport)
    {
        if (server.Manifest.Transport is not HttpTransport http)
        {
            throw new HubException(HubErrorCode.ConfigurationError, server.Id, $"Server '{server.Id}' is not a remote (http) server; only those sign in.");
        }

        transport = http;
        var url = VariableResolver.Resolve(http.Url.OriginalString, _environment, server, "transport.url");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new HubException(HubErrorCode.ConfigurationError, server.Id, $"Server '{server.Id}' has no usable URL ('{url}'). Fix 'url' in {server.Provenance}.");
        }

        return endpoint;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null && ex is not McpException)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}

/// <summary>How an interactive sign-in runs.</summary>
public sealed class RemoteSignInOptions
{
    /// <summary>Gets the scopes to ask for beyond what the sign-in already grants (step-up); empty for what the server asks.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>Gets how the authorization page is shown to the user (open a browser, print the URL).</summary>
    public required Func<Uri, CancellationToken, Task> OpenAuthorizationPage { get; init; }

    /// <summary>Gets how long the user has to finish in the browser. The default is five minutes.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>What a sign-out did.</summary>
/// <param name="Deleted">Whether stored tokens were deleted (false: there was no sign-in).</param>
/// <param name="Revoked">Whether the authorization server revoked the grant.</param>
/// <param name="RevocationProblem">Why it was not revoked, or <see langword="null"/>.</param>
public sealed record OAuthSignOut(bool Deleted, bool Revoked, string? RevocationProblem);
