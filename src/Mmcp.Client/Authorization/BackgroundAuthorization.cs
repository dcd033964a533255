using System.Web;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol.Authentication;

namespace Mmcp.Client.Authorization;

/// <summary>
/// OAuth for the hub's own connections (discovery, the gateway, Atlas), which never open a browser. The MCP SDK does
/// the protocol (401 + <c>WWW-Authenticate</c> → protected resource metadata → authorization server metadata, resource
/// indicators, refresh, <c>insufficient_scope</c> challenges); this class gives it the user's stored tokens and, where
/// the SDK would send the user to the authorization page, fails with <see cref="HubErrorCode.SignInRequired"/> and
/// the command to run instead.
/// </summary>
internal static class BackgroundAuthorization
{
    /// <summary>The client id given to the SDK when nothing is stored, so that it goes straight to the (refused) authorization step instead of registering a client it cannot use.</summary>
    private const string NotSignedInClientId = "mmcp-not-signed-in";

    /// <summary>Returns whether a server is reached with OAuth: an http server whose definition sets no <c>Authorization</c> header itself.</summary>
    public static bool Applies(HttpTransport transport) => !transport.Headers.ContainsKey("Authorization");

    /// <summary>The SDK's OAuth options for a background connection to <paramref name="server"/>.</summary>
    /// <param name="server">The server.</param>
    /// <param name="endpoint">Its URL.</param>
    /// <param name="store">The user's sign-ins.</param>
    /// <param name="client">The client the definition names (a pre-registered id and secret, scopes), or <see cref="ConfiguredClient.None"/>.</param>
    public static ClientOAuthOptions Create(DiscoveredServer server, Uri endpoint, OAuthTokenStore store, ConfiguredClient client)
    {
        var cache = new FileTokenCache(store, server.Id, endpoint, ignoreExisting: false);
        return new ClientOAuthOptions
        {
            // Never opened: the handler below refuses before any redirect could happen.
            RedirectUri = new Uri("http://127.0.0.1/mmcp-background"),

            // A configured client refreshes as itself; otherwise, with stored tokens the SDK restores their client
            // registration itself (for a refresh).
            ClientId = client.ClientId ?? (cache.Current is { ClientId.Length: > 0 } ? null : NotSignedInClientId),
            ClientSecret = client.ClientSecret,
            Scopes = client.Scopes.Count > 0 ? [.. client.Scopes] : null,
            TokenCache = cache,
            AuthorizationCallbackHandler = (context, _) => throw SignInRequired(server.Id, cache.Current, context.AuthorizationUri),
        };
    }

    /// <summary>The error of a connection that would need the user at the authorization page.</summary>
    /// <param name="serverId">The server.</param>
    /// <param name="held">The tokens held, or <see langword="null"/>.</param>
    /// <param name="authorizationUri">The authorization request the SDK built (its <c>scope</c> says what is asked for).</param>
    /// <returns>The exception.</returns>
    public static HubException SignInRequired(string serverId, TokenContainer? held, Uri authorizationUri)
    {
        var asked = Scopes(HttpUtility.ParseQueryString(authorizationUri.Query)["scope"]);
        var granted = Scopes(held?.Scope);
        var missing = asked.Where(s => s != "offline_access" && !granted.Contains(s, StringComparer.Ordinal)).ToList();
        string message;
        if (held is null || string.IsNullOrEmpty(held.AccessToken))
        {
            message = $"Server '{serverId}' needs you to sign in: run `mmcp auth login {serverId}`.";
        }
        else if (granted.Count > 0 && missing.Count > 0 && !granted.Where(s => s != "offline_access").All(asked.Contains))
        {
            // A step-up (403 insufficient_scope) asks for the scope the call needs, not again for everything granted;
            // a request for all the server's scopes plus more is a fresh sign-in after a refusal (401), not a step-up.
            var flags = string.Join(' ', missing.Select(s => "--scope " + s));
            message = $"Server '{serverId}' needs the scope {string.Join(", ", missing.Select(s => $"'{s}'"))}, which your sign-in does not grant: run `mmcp auth login {serverId} {flags}`.";
        }
        else
        {
            message = $"Server '{serverId}' needs you to sign in again (your sign-in expired or was revoked): run `mmcp auth login {serverId}`.";
        }

        return new HubException(HubErrorCode.SignInRequired, serverId, message);
    }

    /// <summary>Finds a sign-in error in what the SDK threw around it.</summary>
    public static HubException? Find(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HubException { Code: HubErrorCode.SignInRequired } found)
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

    private static List<string> Scopes(string? scope) => [.. (scope ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries)];
}
