using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Mmcp.Client.Storage;
using Mmcp.Core.Registry;
using ModelContextProtocol.Authentication;
using Shared.Storage;

namespace Mmcp.Client.Authorization;

/// <summary>
/// The user's OAuth sign-ins to remote servers: one file per server under <c>$XDG_CONFIG_HOME/mmcp/oauth</c>
/// (mode 0600 in a 0700 directory, written atomically under a lock by <c>PrivateFile</c>), holding the tokens, the
/// client registration they belong to and the server URL they were issued for. Nothing here is ever logged: callers
/// get <see cref="OAuthSignIn"/> (dates, scopes) and never a token.
/// </summary>
public sealed class OAuthTokenStore
{
    /// <summary>Initializes a new instance of the <see cref="OAuthTokenStore"/> class.</summary>
    /// <param name="directory">The directory of the files.</param>
    public OAuthTokenStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = directory;
    }

    /// <summary>Gets the directory of the files.</summary>
    public string Directory { get; }

    /// <summary>Returns the store of <paramref name="environment"/>: <c>$XDG_CONFIG_HOME/mmcp/oauth</c>.</summary>
    /// <param name="environment">The environment.</param>
    /// <returns>The store.</returns>
    public static OAuthTokenStore ForEnvironment(MmcpEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return new OAuthTokenStore(Path.Combine(environment.ConfigHome, "mmcp", "oauth"));
    }

    /// <summary>Returns what is known about the sign-in to a server (never the tokens), or <see langword="null"/> when there is none.</summary>
    /// <param name="serverId">The server id.</param>
    /// <returns>The sign-in, or <see langword="null"/>.</returns>
    public OAuthSignIn? Find(string serverId)
    {
        var entry = Read(serverId);
        if (entry is null)
        {
            return null;
        }

        var tokens = entry.Tokens;
        DateTimeOffset? expires = tokens.ExpiresIn is { } seconds ? tokens.ObtainedAt.AddSeconds(seconds) : null;
        return new OAuthSignIn(
            serverId,
            entry.Url,
            tokens.ObtainedAt,
            expires,
            tokens.Scope?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [],
            !string.IsNullOrEmpty(tokens.RefreshToken),
            Uri.TryCreate(tokens.AuthorizationServer, UriKind.Absolute, out var issuer) ? issuer : null);
    }

    /// <summary>Deletes the sign-in to a server.</summary>
    /// <param name="serverId">The server id.</param>
    /// <returns>Whether there was one.</returns>
    public bool Delete(string serverId)
    {
        var path = PathFor(serverId);
        if (!File.Exists(path))
        {
            return false;
        }

        PrivateFile.TryDelete(path);
        return true;
    }

    internal string PathFor(string serverId)
    {
        // Server ids are reverse-DNS names; anything else in them becomes '_' and a short hash keeps names distinct.
        var safe = new StringBuilder(serverId.Length);
        foreach (var c in serverId)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(serverId)))[..8];
        return Path.Combine(Directory, $"{safe}-{hash}.json");
    }

    internal StoredSignIn? Read(string serverId)
    {
        string? text;
        try
        {
            text = PrivateFile.Read(PathFor(serverId));
        }
        catch (IOException)
        {
            return null;
        }

        if (text is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text) is JsonObject o && Uri.TryCreate((string?)o["url"], UriKind.Absolute, out var url) && o["tokens"] is JsonObject t
                ? new StoredSignIn(url, FromJson(t))
                : null;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or InvalidOperationException)
        {
            // A damaged file is the same as no sign-in: the user signs in again and it is replaced.
            return null;
        }
    }

    internal FileStamp Stamp(string serverId) => PrivateFile.Stamp(PathFor(serverId));

    /// <summary>Returns mmcp's client registration (RFC 7591) at an authorization server, or <see langword="null"/>.</summary>
    internal ClientRegistration? ReadClient(string authorizationServer)
    {
        string? text;
        try
        {
            text = PrivateFile.Read(ClientPathFor(authorizationServer));
        }
        catch (IOException)
        {
            return null;
        }

        try
        {
            return text is not null && JsonNode.Parse(text) is JsonObject o
                && (string?)o["authorizationServer"] == authorizationServer
                && (string?)o["clientId"] is { Length: > 0 } clientId
                    ? new ClientRegistration(
                        authorizationServer,
                        clientId,
                        (string?)o["clientSecret"],
                        (string?)o["tokenEndpointAuthMethod"],
                        Uri.TryCreate((string?)o["redirectUri"], UriKind.Absolute, out var redirect) ? redirect : null)
                    : null;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Keeps mmcp's client registration at an authorization server, for the next sign-ins there.</summary>
    internal Task WriteClientAsync(ClientRegistration registration, CancellationToken cancellationToken)
    {
        var text = new JsonObject
        {
            ["authorizationServer"] = registration.AuthorizationServer,
            ["clientId"] = registration.ClientId,
            ["clientSecret"] = registration.ClientSecret,
            ["tokenEndpointAuthMethod"] = registration.TokenEndpointAuthMethod,
            ["redirectUri"] = registration.RedirectUri?.AbsoluteUri,
        }.ToJsonString();
        return PrivateFile.UpdateAsync(ClientPathFor(registration.AuthorizationServer), _ => text, cancellationToken: cancellationToken);
    }

    /// <summary>Forgets mmcp's client registration at an authorization server (it refused it).</summary>
    internal void DeleteClient(string authorizationServer) => PrivateFile.TryDelete(ClientPathFor(authorizationServer));

    private string ClientPathFor(string authorizationServer) =>
        Path.Combine(Directory, "clients", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(authorizationServer)))[..24] + ".json");

    internal Task WriteAsync(string serverId, Uri url, TokenContainer tokens, CancellationToken cancellationToken)
    {
        var text = new JsonObject { ["url"] = url.AbsoluteUri, ["tokens"] = ToJson(tokens) }.ToJsonString();
        return PrivateFile.UpdateAsync(PathFor(serverId), _ => text, cancellationToken: cancellationToken);
    }

    private static JsonObject ToJson(TokenContainer t) => new()
    {
        ["tokenType"] = t.TokenType,
        ["accessToken"] = t.AccessToken,
        ["refreshToken"] = t.RefreshToken,
        ["expiresIn"] = t.ExpiresIn,
        ["scope"] = t.Scope,
        ["obtainedAt"] = t.ObtainedAt.ToString("O", CultureInfo.InvariantCulture),
        ["clientId"] = t.ClientId,
        ["clientSecret"] = t.ClientSecret,
        ["tokenEndpointAuthMethod"] = t.TokenEndpointAuthMethod,
        ["authorizationServer"] = t.AuthorizationServer,
    };

    private static TokenContainer FromJson(JsonObject o) => new()
    {
        TokenType = (string?)o["tokenType"] ?? "Bearer",
        AccessToken = (string?)o["accessToken"] ?? string.Empty,
        RefreshToken = (string?)o["refreshToken"],
        ExpiresIn = (int?)o["expiresIn"],
        Scope = (string?)o["scope"],
        ObtainedAt = DateTimeOffset.Parse((string?)o["obtainedAt"] ?? "1970-01-01T00:00:00Z", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        ClientId = (string?)o["clientId"],
        ClientSecret = (string?)o["clientSecret"],
        TokenEndpointAuthMethod = (string?)o["tokenEndpointAuthMethod"],
        AuthorizationServer = (string?)o["authorizationServer"],
    };

    internal sealed record StoredSignIn(Uri Url, TokenContainer Tokens);

    /// <summary>A client registration: the authorization server (issuer) it belongs to, its credentials and the redirect URI registered.</summary>
    internal sealed record ClientRegistration(string AuthorizationServer, string ClientId, string? ClientSecret, string? TokenEndpointAuthMethod, Uri? RedirectUri)
    {
        /// <summary>The registration as the SDK restores it from a token cache: client credentials bound to the issuer, no tokens (expired, so never sent).</summary>
        public TokenContainer AsTokens() => new()
        {
            TokenType = "Bearer",
            AccessToken = string.Empty,
            ExpiresIn = 0,
            ObtainedAt = DateTimeOffset.UnixEpoch,
            ClientId = ClientId,
            ClientSecret = ClientSecret,
            TokenEndpointAuthMethod = TokenEndpointAuthMethod,
            AuthorizationServer = AuthorizationServer,
        };
    }
}

/// <summary>What is known about a sign-in to a remote server (never its tokens).</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="Url">The server URL the tokens were issued for.</param>
/// <param name="ObtainedAt">When the current access token was obtained.</param>
/// <param name="ExpiresAt">When the current access token expires (a refresh renews it silently), or <see langword="null"/> when the server did not say.</param>
/// <param name="Scopes">The scopes granted.</param>
/// <param name="CanRefresh">Whether a refresh token is held.</param>
/// <param name="AuthorizationServer">The authorization server (issuer), or <see langword="null"/>.</param>
public sealed record OAuthSignIn(string ServerId, Uri Url, DateTimeOffset ObtainedAt, DateTimeOffset? ExpiresAt, IReadOnlyList<string> Scopes, bool CanRefresh, Uri? AuthorizationServer);
