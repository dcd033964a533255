using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Mmcp.OAuthServer;

/// <summary>
/// A real OAuth 2.1 authorization server for tests: OpenIddict on real Kestrel over loopback http, with an in-memory
/// store. It offers the authorization code flow with PKCE (S256 required), refresh tokens (rotated; revocable at
/// <c>/connect/revoke</c>), client credentials, dynamic client registration (<c>/connect/register</c>, RFC 7591:
/// OpenIddict has none, so this program adds a small one on OpenIddict's application manager), resource indicators
/// (RFC 8707: the <c>resource</c> parameter becomes the access token's <c>aud</c>), and JWT access tokens signed with
/// an RSA key generated at start and published in the JWKS (<c>/.well-known/jwks</c>). The consent page has an
/// "Approve" button (<c>#approve</c>) for a browser to click; <see cref="AutoApprove"/> skips it. Tests that run it as
/// a child process use the switches under <c>/test/</c>: <c>settings</c> (<c>auto_approve</c>,
/// <c>access_token_lifetime_seconds</c>), <c>mint</c> (a token signed with the server's key with any <c>aud</c>,
/// <c>scope</c>, <c>exp</c> and <c>iss</c>), <c>revoke-all</c>, <c>stats</c> (dynamic registrations and token
/// requests counted), <c>delete-registered-clients</c> and <c>register-client</c> (a pre-registered client);
/// <c>settings</c> also takes <c>rfc8414_only</c> (metadata only at <c>/.well-known/oauth-authorization-server</c>) and
/// <c>metadata_issuer</c> (metadata naming another issuer).
/// </summary>
public sealed class OAuthTestServer : IAsyncDisposable
{
    /// <summary>The confidential client the tests use for the client-credentials grant (secret <see cref="ServiceClientSecret"/>).</summary>
    public const string ServiceClientId = "mmcp-test-service";

    /// <summary>The secret of <see cref="ServiceClientId"/>.</summary>
    public const string ServiceClientSecret = "test-service-secret";

    /// <summary>The scopes the server knows (the gateway's scopes).</summary>
    public static readonly string[] Scopes = ["tools:list", "tools:call", "resources:read", "prompts:read", "inspect"];

    private readonly WebApplication _app;

    private OAuthTestServer(WebApplication app) => _app = app;

    /// <summary>Gets the issuer (the server's base URL, with a trailing slash, as OpenIddict writes it in <c>iss</c>).</summary>
    public Uri Issuer { get; private set; } = null!;

    /// <summary>Gets or sets a value indicating whether authorization requests are approved for the test user without showing the consent page.</summary>
    public bool AutoApprove { get; set; }

    /// <summary>Gets or sets the lifetime of the access tokens issued from now on. The default is one hour.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets a value indicating whether the metadata is served only as RFC 8414 (<c>/.well-known/oauth-authorization-server</c>); <c>/.well-known/openid-configuration</c> then answers 404.</summary>
    public bool Rfc8414Only { get; set; }

    /// <summary>Gets or sets the <c>issuer</c> the metadata names instead of the real one (a misconfigured or lying server), or <see langword="null"/>.</summary>
    public string? MetadataIssuer { get; set; }

    /// <summary>Gets how many clients were registered at <c>/connect/register</c> (RFC 7591).</summary>
    public int Registrations => _registrations;

    private int _registrations;

    /// <summary>Gets how many token requests (any grant) the server answered, for tests that watch refreshes.</summary>
    public int TokenRequests => _tokenRequests;

    private int _tokenRequests;

    /// <summary>Starts the server on a free loopback port.</summary>
    /// <param name="port">The port, or 0 for one the OS picks.</param>
    /// <param name="logging">Configures logging, or <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    public static async Task<OAuthTestServer> StartAsync(int port = 0, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var database = "oauth-" + Guid.NewGuid().ToString("N");
        var holder = new Holder();
        builder.Services.AddDbContext<OAuthDbContext>(o =>
        {
            o.UseInMemoryDatabase(database);
            o.UseOpenIddict();
        });
        builder.Services.AddAuthentication();
        builder.Services.AddAuthorization();
        builder.Services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<OAuthDbContext>())
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetRevocationEndpointUris("connect/revoke");
                o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange().AllowRefreshTokenFlow().AllowClientCredentialsFlow();
                o.RegisterScopes(Scopes);

                // OAuth 2.1: S256 only.
                o.Configure(options => options.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain));

                // Any absolute resource indicator is accepted (the gateway under test listens on a port picked at run time).
                o.DisableResourceValidation().IgnoreResourcePermissions();
                o.AddEphemeralEncryptionKey().AddEphemeralSigningKey();

                // Resource servers validate the access token themselves (JWT, signature from the JWKS), so it is signed, not encrypted.
                o.DisableAccessTokenEncryption();
                o.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .DisableTransportSecurityRequirement();
                o.AddEventHandler<OpenIddictServerEvents.HandleConfigurationRequestContext>(b => b.UseInlineHandler(context =>
                {
                    context.Metadata["registration_endpoint"] = new Uri(context.BaseUri!, "connect/register").AbsoluteUri;
                    return default;
                }));
                o.AddEventHandler<OpenIddictServerEvents.ApplyConfigurationResponseContext>(b => b.UseInlineHandler(context =>
                {
                    if (holder.Server?.MetadataIssuer is { } issuer && context.Response is not null)
                    {
                        context.Response["issuer"] = issuer;
                    }

                    return default;
                }));
            });

        var app = builder.Build();

        // RFC 8414 metadata: the same document as OpenID discovery, at the OAuth well-known path; with Rfc8414Only the
        // OpenID path is gone, as at an authorization server that is not an OpenID provider.
        app.Use((context, next) =>
        {
            var server = holder.Server;
            if (context.Request.Path == "/.well-known/oauth-authorization-server")
            {
                context.Request.Path = "/.well-known/openid-configuration";
            }
            else if (server is { Rfc8414Only: true } && context.Request.Path == "/.well-known/openid-configuration")
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
        app.UseAuthentication();
        app.UseAuthorization();
        var server = new OAuthTestServer(app);
        holder.Server = server;
        server.Map(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Issuer = new Uri(address.TrimEnd('/') + "/");
        await server.SeedAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <summary>Registers a public client (authorization code with PKCE) with the given redirect URIs.</summary>
    /// <param name="clientId">The client id.</param>
    /// <param name="redirectUris">The exact redirect URIs.</param>
    /// <param name="cancellationToken">Cancels the registration.</param>
    /// <returns>A task that completes when the client is stored.</returns>
    public async Task RegisterPublicClientAsync(string clientId, IEnumerable<string> redirectUris, CancellationToken cancellationToken = default)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        await manager.CreateAsync(PublicClient(clientId, redirectUris), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gets an access token by the client-credentials grant (a real token request to the token endpoint).</summary>
    /// <param name="resource">The resource indicator (becomes <c>aud</c>).</param>
    /// <param name="scopes">The scopes asked for.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The access token.</returns>
    public async Task<string> GetClientCredentialsTokenAsync(string resource, IEnumerable<string> scopes, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = GrantTypes.ClientCredentials,
            ["client_id"] = ServiceClientId,
            ["client_secret"] = ServiceClientSecret,
            ["scope"] = string.Join(' ', scopes),
            ["resource"] = resource,
        });
        using var response = await http.PostAsync(new Uri(Issuer, "connect/token"), form, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The token request failed with {(int)response.StatusCode}: {body}");
        }

        return JsonNode.Parse(body)!["access_token"]!.GetValue<string>();
    }

    /// <summary>
    /// Mints a JWT access token outside the token endpoint, signed with the server's own key (the one in its JWKS),
    /// for the cases a well-behaved server never issues: expired, for another audience, from another issuer.
    /// </summary>
    /// <param name="audience">The <c>aud</c>.</param>
    /// <param name="scopes">The <c>scope</c>.</param>
    /// <param name="expires">When it expires (may be in the past).</param>
    /// <param name="issuer">The <c>iss</c>, or <see langword="null"/> for this server's.</param>
    /// <returns>The token.</returns>
    public string MintAccessToken(string audience, IEnumerable<string> scopes, DateTimeOffset expires, string? issuer = null)
    {
        var options = _app.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;
        var credentials = options.SigningCredentials.First();
        var issued = expires - AccessTokenLifetime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer.AbsoluteUri,
            Audience = audience,
            IssuedAt = issued.UtcDateTime,
            NotBefore = issued.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = credentials,
            TokenType = "at+jwt",
            Claims = new Dictionary<string, object>
            {
                [Claims.Subject] = "minted",
                [Claims.Scope] = string.Join(' ', scopes),
                [Claims.ClientId] = ServiceClientId,
            },
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>Revokes every refresh token (and access token) issued so far, as an administrator would.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>How many tokens were revoked.</returns>
    public async Task<int> RevokeAllTokensAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        var count = 0;
        await foreach (var token in manager.ListAsync(count: null, offset: null, cancellationToken).ConfigureAwait(false))
        {
            if (await manager.TryRevokeAsync(token, cancellationToken).ConfigureAwait(false))
            {
                count++;
            }
        }

        return count;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static OpenIddictApplicationDescriptor PublicClient(string clientId, IEnumerable<string> redirectUris)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientType = ClientTypes.Public,
            DisplayName = clientId,
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.Endpoints.Revocation,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.GrantTypes.RefreshToken,
                Permissions.ResponseTypes.Code,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        foreach (var scope in Scopes)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + scope);
        }

        foreach (var uri in redirectUris)
        {
            descriptor.RedirectUris.Add(new Uri(uri));
        }

        return descriptor;
    }

    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var service = new OpenIddictApplicationDescriptor
        {
            ClientId = ServiceClientId,
            ClientSecret = ServiceClientSecret,
            ClientType = ClientTypes.Confidential,
            DisplayName = "tests (client credentials)",
            Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials },
        };
        foreach (var s in Scopes)
        {
            service.Permissions.Add(Permissions.Prefixes.Scope + s);
        }

        await manager.CreateAsync(service, cancellationToken).ConfigureAwait(false);
    }

    private void Map(WebApplication app)
    {
        app.MapMethods("/connect/authorize", [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync);
        app.MapPost("/connect/token", TokenAsync);
        app.MapPost("/connect/register", RegisterAsync);

        // Switches for tests that run this server as a child process (it listens on loopback only).
        app.MapPost("/test/settings", async context =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            if (form.TryGetValue("auto_approve", out var approve))
            {
                AutoApprove = bool.Parse(approve.ToString());
            }

            if (form.TryGetValue("access_token_lifetime_seconds", out var lifetime))
            {
                AccessTokenLifetime = TimeSpan.FromSeconds(int.Parse(lifetime.ToString(), CultureInfo.InvariantCulture));
            }

            if (form.TryGetValue("rfc8414_only", out var rfc8414))
            {
                Rfc8414Only = bool.Parse(rfc8414.ToString());
            }

            if (form.TryGetValue("metadata_issuer", out var metadataIssuer))
            {
                MetadataIssuer = metadataIssuer.ToString() is { Length: > 0 } value ? value : null;
            }

            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        app.MapPost("/test/mint", async context =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            var expires = DateTimeOffset.FromUnixTimeSeconds(long.Parse(form["exp"].ToString(), CultureInfo.InvariantCulture));
            var issuer = form["iss"].ToString();
            var token = MintAccessToken(form["aud"].ToString(), form["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries), expires, issuer.Length > 0 ? issuer : null);
            await context.Response.WriteAsync(token, context.RequestAborted).ConfigureAwait(false);
        });
        app.MapGet("/test/stats", async context =>
            await context.Response.WriteAsJsonAsync(new JsonObject { ["registrations"] = Registrations, ["tokenRequests"] = TokenRequests }, context.RequestAborted).ConfigureAwait(false));
        app.MapPost("/test/delete-registered-clients", async context =>
        {
            // Forgets every dynamically registered client, as a server that expires or purges registrations does: its
            // client id changes (deleting it would also need its authorizations and tokens gone), so the old id is unknown.
            await using var scope = context.RequestServices.CreateAsyncScope();
            var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            var doomed = new List<object>();
            await foreach (var application in manager.ListAsync(count: null, offset: null, context.RequestAborted).ConfigureAwait(false))
            {
                if ((await manager.GetClientIdAsync(application, context.RequestAborted).ConfigureAwait(false))?.StartsWith("dyn-", StringComparison.Ordinal) == true)
                {
                    doomed.Add(application);
                }
            }

            foreach (var application in doomed)
            {
                var descriptor = new OpenIddictApplicationDescriptor();
                await manager.PopulateAsync(descriptor, application, context.RequestAborted).ConfigureAwait(false);
                descriptor.ClientId = "forgotten-" + descriptor.ClientId;
                await manager.UpdateAsync(application, descriptor, context.RequestAborted).ConfigureAwait(false);
            }

            await context.Response.WriteAsync(doomed.Count.ToString(CultureInfo.InvariantCulture), context.RequestAborted).ConfigureAwait(false);
        });
        app.MapPost("/test/register-client", async context =>
        {
            // A client registered by an administrator (not RFC 7591): public, or confidential when a secret is given.
            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            var descriptor = PublicClient(form["client_id"].ToString(), [form["redirect_uri"].ToString()]);
            if (form["client_secret"].ToString() is { Length: > 0 } secret)
            {
                descriptor.ClientType = ClientTypes.Confidential;
                descriptor.ClientSecret = secret;
            }

            await using var scope = context.RequestServices.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().CreateAsync(descriptor, context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        app.MapPost("/test/revoke-all", async context =>
            await context.Response.WriteAsync((await RevokeAllTokensAsync(context.RequestAborted).ConfigureAwait(false)).ToString(CultureInfo.InvariantCulture), context.RequestAborted).ConfigureAwait(false));
    }

    /// <summary>The consent page, or the sign-in when the user approved (or <see cref="AutoApprove"/> is on).</summary>
    private async Task AuthorizeAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        var decision = HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType ? context.Request.Form["decision"].ToString() : string.Empty;
        if (decision == "deny")
        {
            await context.ForbidAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.AccessDenied,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The user denied the request.",
            })).ConfigureAwait(false);
            return;
        }

        if (decision != "approve" && !AutoApprove)
        {
            await WriteConsentPageAsync(context, request).ConfigureAwait(false);
            return;
        }

        var user = context.Request.HasFormContentType && context.Request.Form["user"].ToString() is { Length: > 0 } named ? named : "alice";
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user).SetClaim(Claims.Name, user);
        // The test server always grants a refresh token (OpenIddict issues one only with offline_access).
        identity.SetScopes(request.GetScopes().Add(OpenIddictConstants.Scopes.OfflineAccess));
        identity.SetResources(request.GetResources());
        identity.SetDestinations(_ => [Destinations.AccessToken]);
        var principal = new ClaimsPrincipal(identity);
        principal.SetAccessTokenLifetime(AccessTokenLifetime);
        await context.SignInAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, principal).ConfigureAwait(false);
    }

    private async Task TokenAsync(HttpContext context)
    {
        Interlocked.Increment(ref _tokenRequests);
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        ClaimsPrincipal principal;
        if (request.IsClientCredentialsGrantType())
        {
            var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, request.ClientId!).SetClaim(Claims.Name, request.ClientId!);
            identity.SetScopes(request.GetScopes());
            identity.SetResources(request.GetResources());
            identity.SetDestinations(_ => [Destinations.AccessToken]);
            principal = new ClaimsPrincipal(identity);
        }
        else
        {
            // Authorization code and refresh token: OpenIddict has validated the code or the refresh token (and whether it
            // was revoked); the principal stored in it is issued again.
            var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme).ConfigureAwait(false);
            principal = result.Principal ?? throw new InvalidOperationException("OpenIddict validated the grant but returned no principal.");
            principal.SetDestinations(_ => [Destinations.AccessToken]);
        }

        principal.SetAccessTokenLifetime(AccessTokenLifetime);
        await context.SignInAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, principal).ConfigureAwait(false);
    }

    /// <summary>RFC 7591 registration of a public client (open registration, as MCP clients expect of a test server).</summary>
    private async Task RegisterAsync(HttpContext context)
    {
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            body = null;
        }

        var redirects = (body?["redirect_uris"] as JsonArray)?.Select(n => n?.GetValue<string>()).OfType<string>().ToList() ?? [];
        if (redirects.Count == 0 || redirects.Any(r => !Uri.TryCreate(r, UriKind.Absolute, out var u) || u.Fragment.Length > 0))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new JsonObject { ["error"] = "invalid_redirect_uri", ["error_description"] = "redirect_uris must list absolute URIs without a fragment." }, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        Interlocked.Increment(ref _registrations);
        var clientId = "dyn-" + Guid.NewGuid().ToString("N")[..12];
        await using (var scope = context.RequestServices.CreateAsyncScope())
        {
            var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            await manager.CreateAsync(PublicClient(clientId, redirects), context.RequestAborted).ConfigureAwait(false);
        }

        context.Response.StatusCode = StatusCodes.Status201Created;
        await context.Response.WriteAsJsonAsync(new JsonObject
        {
            ["client_id"] = clientId,
            ["client_id_issued_at"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["redirect_uris"] = new JsonArray([.. redirects.Select(r => (JsonNode)JsonValue.Create(r))]),
            ["grant_types"] = new JsonArray("authorization_code", "refresh_token"),
            ["response_types"] = new JsonArray("code"),
            ["token_endpoint_auth_method"] = "none",
            ["client_name"] = body?["client_name"]?.GetValue<string>(),
        }, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteConsentPageAsync(HttpContext context, OpenIddictRequest request)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in and approve</title></head><body>");
        html.Append(CultureInfo.InvariantCulture, $"<h1>Approve access for {HtmlEncoder.Default.Encode(request.ClientId ?? "?")}</h1>");
        html.Append(CultureInfo.InvariantCulture, $"<p id=\"scopes\">Scopes: {HtmlEncoder.Default.Encode(request.Scope ?? string.Empty)}</p>");
        html.Append(CultureInfo.InvariantCulture, $"<p id=\"resource\">Resource: {HtmlEncoder.Default.Encode(string.Join(' ', request.GetResources()))}</p>");
        html.Append("<form method=\"post\" action=\"/connect/authorize\">");
        foreach (var (name, value) in request.GetParameters())
        {
            foreach (var item in (Microsoft.Extensions.Primitives.StringValues)(OpenIddictParameter?)value)
            {
                html.Append(CultureInfo.InvariantCulture, $"<input type=\"hidden\" name=\"{HtmlEncoder.Default.Encode(name)}\" value=\"{HtmlEncoder.Default.Encode(item ?? string.Empty)}\">");
            }
        }

        html.Append("<label>User <input id=\"user\" name=\"user\" value=\"alice\"></label>");
        html.Append("<button id=\"approve\" name=\"decision\" value=\"approve\" type=\"submit\">Approve</button>");
        html.Append("<button id=\"deny\" name=\"decision\" value=\"deny\" type=\"submit\">Deny</button>");
        html.Append("</form></body></html>");
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(html.ToString(), context.RequestAborted).ConfigureAwait(false);
    }
}

/// <summary>The server, for handlers configured before it exists.</summary>
internal sealed class Holder
{
    public OAuthTestServer? Server { get; set; }
}

/// <summary>The in-memory store of OpenIddict's applications, authorizations, scopes and tokens.</summary>
internal sealed class OAuthDbContext(DbContextOptions<OAuthDbContext> options) : DbContext(options);
