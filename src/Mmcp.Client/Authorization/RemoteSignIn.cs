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
public sealed partial class RemoteSignIn
{
    /// <summary>The errors of an authorization request refused without a redirect (RFC 6749 §4.1.2.1), looked for in the answer.</summary>
    private static readonly string[] RefusalErrors = ["invalid_client", "unauthorized_client", "invalid_request"];

    private readonly OAuthTokenStore _store;
    private readonly MmcpEnvironment _environment;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
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
        _logger = _loggerFactory.CreateLogger<RemoteSignIn>();
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
        var client = ConfiguredClient.Resolve(server, transport, _environment);
        var extra = options.Scopes.SelectMany(s => s.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)).ToList();
        var previous = _store.Read(server.Id);
        var granted = _store.Find(server.Id) is { } signedIn && signedIn.Url == endpoint ? signedIn.Scopes : [];

        // A client registered earlier at this server's authorization server is used again: on the redirect port it
        // registered when that port is free (servers that match redirect URIs exactly), else on any (RFC 8252 §7.3).
        var reuse = client.ClientId is null && client.MetadataUrl is null;
        var prior = reuse && previous?.Tokens.AuthorizationServer is { } issuer ? _store.ReadClient(issuer) : null;
        LoopbackRedirectListener listener;
        try
        {
            listener = LoopbackRedirectListener.Start(client.RedirectPort ?? prior?.RedirectUri?.Port ?? 0, required: client.RedirectPort is not null);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new HubException(HubErrorCode.ConfigurationError, server.Id, $"The sign-in to '{server.Id}' needs the loopback port {client.RedirectPort} ('redirectPort' in {server.Provenance}), which is in use: {ex.Message}. Free it, or change 'redirectPort' (and the client's redirect URI at the authorization server).", ex);
        }

        using (listener)
        {
            using var timeout = new CancellationTokenSource(options.Timeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                return await AttemptAsync(server, endpoint, transport, client, options, listener, reuse, granted, extra, timeout, linked.Token, cancellationToken).ConfigureAwait(false);
            }
            catch (StoredClientRefusedException refused)
            {
                // Once: the stored registration is forgotten and a new client registered; the user is told why.
                _store.DeleteClient(refused.AuthorizationServer);
                Log.StoredClientRefused(_logger, server.Id, refused.AuthorizationServer, refused.Reason);
                options.Notice?.Invoke($"The authorization server {refused.AuthorizationServer} refused mmcp's stored client registration ({refused.Reason}); registering a new client.");
                return await AttemptAsync(server, endpoint, transport, client, options, listener, reuse: false, granted, extra, timeout, linked.Token, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<OAuthSignIn?> AttemptAsync(
        DiscoveredServer server,
        Uri endpoint,
        HttpTransport transport,
        ConfiguredClient client,
        RemoteSignInOptions options,
        LoopbackRedirectListener listener,
        bool reuse,
        IReadOnlyList<string> granted,
        List<string> extra,
        CancellationTokenSource timeout,
        CancellationToken token,
        CancellationToken cancellationToken)
    {
        var cache = new FileTokenCache(_store, server.Id, endpoint, ignoreExisting: true);
        Uri? selected = null;
        OAuthTokenStore.ClientRegistration? offered = null;
        if (reuse)
        {
            cache.Registration = () =>
            {
                offered = selected is null ? null : _store.ReadClient(selected.OriginalString);
                return offered?.AsTokens();
            };
        }

        var oauth = new ClientOAuthOptions
        {
            RedirectUri = listener.RedirectUri,
            TokenCache = cache,
            ClientId = client.ClientId,
            ClientSecret = client.ClientSecret,
            ClientMetadataDocumentUri = client.MetadataUrl,
            AuthServerSelector = servers =>
            {
                selected = servers.Count > 0 ? servers[0] : null;
                return selected;
            },
            AuthorizationCallbackHandler = async (context, ct) =>
            {
                var query = HttpUtility.ParseQueryString(context.AuthorizationUri.Query);
                if (offered is { } stored && string.Equals(query["client_id"], stored.ClientId, StringComparison.Ordinal))
                {
                    await ProbeStoredClientAsync(context.AuthorizationUri, stored, ct).ConfigureAwait(false);
                }

                await options.OpenAuthorizationPage(context.AuthorizationUri, ct).ConfigureAwait(false);
                return await listener.WaitAsync(server.Id, query["state"], ct).ConfigureAwait(false);
            },
        };
        if (client.ClientId is null)
        {
            oauth.DynamicClientRegistration = new DynamicClientRegistrationOptions
            {
                ClientName = "mmcp",
                ResponseDelegate = async (response, ct) =>
                {
                    if (selected is not null)
                    {
                        Log.Registered(_logger, server.Id, selected.OriginalString);
                        await _store.WriteClientAsync(new OAuthTokenStore.ClientRegistration(selected.OriginalString, response.ClientId, response.ClientSecret, response.TokenEndpointAuthMethod, listener.RedirectUri), ct).ConfigureAwait(false);
                    }
                },
            };
        }

        if (extra.Count > 0 || client.Scopes.Count > 0)
        {
            // The scopes the definition names (else the server's), plus for a step-up what the sign-in already grants
            // and what was asked for (and offline_access when offered).
            oauth.ScopeSelector = candidates =>
            {
                var offline = candidates?.Contains("offline_access", StringComparer.Ordinal) == true ? ["offline_access"] : Array.Empty<string>();
                var basis = client.Scopes.Count > 0 ? client.Scopes : extra.Count > 0 ? granted : candidates ?? [];
                return [.. basis.Concat(extra).Concat(offline).Distinct(StringComparer.Ordinal)];
            };
        }

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
                var mcp = await McpClient.CreateAsync(http, clientOptions, _loggerFactory, token).ConfigureAwait(false);
                await mcp.DisposeAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new HubException(HubErrorCode.HandshakeTimeout, server.Id, $"The sign-in to '{server.Id}' was not completed within {options.Timeout.TotalSeconds:0} s (no answer came back to {listener.RedirectUri}). Run `mmcp auth login {server.Id}` again; with --no-browser, open the printed URL yourself.");
            }
            catch (Exception ex) when (ex is McpException or HttpRequestException or InvalidOperationException or ArgumentException or System.Text.Json.JsonException)
            {
                if (StoredClientRefusedException.Find(ex) is { } storedRefused)
                {
                    throw storedRefused;
                }

                if (BackgroundAuthorization.Find(ex) is { } refused)
                {
                    throw refused;
                }

                throw new HubException(HubErrorCode.SignInRequired, server.Id, $"The sign-in to '{server.Id}' failed: {Innermost(ex).Message}", ex);
            }
        }

        return cache.Stored == 0 ? null : _store.Find(server.Id);
    }

    /// <summary>
    /// Asks the authorization server, before the browser is sent there, whether it still knows a stored client: a
    /// refused client or redirect URI is answered at once with an error and no redirect (RFC 6749 §4.1.2.1), which in
    /// the browser would strand the user on an error page. Any other answer (the sign-in page, a redirect) is fine.
    /// </summary>
    private static async Task ProbeStoredClientAsync(Uri authorizationUri, OAuthTokenStore.ClientRegistration stored, CancellationToken cancellationToken)
    {
        var loopback = authorizationUri.IsLoopback;
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = !loopback }) { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync(authorizationUri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if ((int)response.StatusCode is >= 400 and < 500)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var error = RefusalErrors.FirstOrDefault(e => body.Contains(e, StringComparison.Ordinal));
            var redirect = HttpUtility.ParseQueryString(authorizationUri.Query)["redirect_uri"] ?? "?";
            var reason = $"HTTP {(int)response.StatusCode}{(error is null ? string.Empty : ", " + error)} for client {stored.ClientId} with redirect URI {redirect}";
            throw new StoredClientRefusedException(stored.AuthorizationServer, reason);
        }
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

    /// <summary>The authorization server refused a stored client registration (before the browser was sent there).</summary>
    private sealed class StoredClientRefusedException(string authorizationServer, string reason) : Exception($"The authorization server {authorizationServer} refused the stored client registration: {reason}.")
    {
        public string AuthorizationServer { get; } = authorizationServer;

        public string Reason { get; } = reason;

        public static StoredClientRefusedException? Find(Exception? exception)
        {
            for (var e = exception; e is not null; e = e.InnerException)
            {
                if (e is StoredClientRefusedException found)
                {
                    return found;
                }

                if (e is AggregateException aggregate && aggregate.InnerExceptions.Select(Find).FirstOrDefault(f => f is not null) is { } inner)
                {
                    return inner;
                }
            }

            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3501, LogLevel.Information, "Registered mmcp as a new OAuth client at {AuthorizationServer} (signing in to '{ServerId}'); later sign-ins there use it again.")]
        public static partial void Registered(ILogger logger, string serverId, string authorizationServer);

        [LoggerMessage(3502, LogLevel.Warning, "The authorization server {AuthorizationServer} refused mmcp's stored client registration while signing in to '{ServerId}' ({Reason}); registering a new client.")]
        public static partial void StoredClientRefused(ILogger logger, string serverId, string authorizationServer, string reason);
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

    /// <summary>Gets where notices for the user go (a stored client registration was refused and a new one is made), or <see langword="null"/>.</summary>
    public Action<string>? Notice { get; init; }
}

/// <summary>What a sign-out did.</summary>
/// <param name="Deleted">Whether stored tokens were deleted (false: there was no sign-in).</param>
/// <param name="Revoked">Whether the authorization server revoked the grant.</param>
/// <param name="RevocationProblem">Why it was not revoked, or <see langword="null"/>.</param>
public sealed record OAuthSignOut(bool Deleted, bool Revoked, string? RevocationProblem);
