using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Mmcp.Client.Storage;
using Mmcp.Core.Registry;
using Shared.Storage;

namespace Mmcp.Gateway.Security;

/// <summary>A gateway token as stored: never the secret itself, only its SHA-256.</summary>
/// <param name="Id">A short public id (shown in lists and the audit log).</param>
/// <param name="Name">A label chosen by the user.</param>
/// <param name="Scopes">What the token may do (see <see cref="GatewayScopes"/>).</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="ExpiresAt">When it stops working, or <see langword="null"/>.</param>
public sealed record GatewayToken(string Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt)
{
    /// <summary>Returns whether the token carries <paramref name="scope"/> (or every scope).</summary>
    /// <param name="scope">A scope.</param>
    /// <returns><see langword="true"/> when it does.</returns>
    public bool HasScope(string scope) => Scopes.Contains(GatewayScopes.All, StringComparer.Ordinal) || Scopes.Contains(scope, StringComparer.Ordinal);
}

/// <summary>
/// The gateway's bearer tokens, stored hashed (SHA-256) in a file only the user can read
/// (<c>$XDG_CONFIG_HOME/mmcp/tokens.json</c>, mode 0600). A token is shown once, when it is created. Safe to share
/// between processes: <c>mmcp token create</c> in one, the gateway in another, which sees changes at once.
/// </summary>
public sealed class TokenStore
{
    private const string Prefix = "mmcp_";
    private const int IdLength = 8;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private FileStamp _stamp = FileStamp.Unread;
    private Dictionary<string, (GatewayToken Token, byte[] Hash)> _byHash = new(StringComparer.Ordinal);

    /// <summary>Initializes a new instance of the <see cref="TokenStore"/> class.</summary>
    /// <param name="path">The file.</param>
    /// <param name="timeProvider">The clock.</param>
    public TokenStore(string path, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the file.</summary>
    public string Path { get; }

    /// <summary>Returns the default file: <c>$XDG_CONFIG_HOME/mmcp/tokens.json</c>.</summary>
    /// <param name="environment">The environment, or <see langword="null"/> for the process's.</param>
    /// <returns>The path.</returns>
    public static string DefaultPath(MmcpEnvironment? environment = null) =>
        System.IO.Path.Combine((environment ?? MmcpEnvironment.Process).ConfigHome, "mmcp", "tokens.json");

    /// <summary>Creates a token.</summary>
    /// <param name="name">A label.</param>
    /// <param name="scopes">Its scopes (see <see cref="GatewayScopes.Known"/>).</param>
    /// <param name="lifetime">How long it works, or <see langword="null"/> for ever.</param>
    /// <param name="cancellationToken">Stops waiting for the file lock.</param>
    /// <returns>The stored token and the secret, which is not kept anywhere: show it to the user once.</returns>
    /// <exception cref="ArgumentException">A scope is unknown or none is given.</exception>
    public async Task<(GatewayToken Token, string Secret)> CreateAsync(string name, IReadOnlyList<string> scopes, TimeSpan? lifetime = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(scopes);
        if (scopes.Count == 0)
        {
            throw new ArgumentException($"A token needs at least one scope: {string.Join(", ", GatewayScopes.Known)}.", nameof(scopes));
        }

        foreach (var scope in scopes)
        {
            if (!GatewayScopes.Known.Contains(scope, StringComparer.Ordinal))
            {
                throw new ArgumentException($"Unknown scope '{scope}'; use one of {string.Join(", ", GatewayScopes.Known)}.", nameof(scopes));
            }
        }

        var secret = Prefix + WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var now = _time.GetUtcNow();
        var token = new GatewayToken(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2)), name, [.. scopes.Distinct(StringComparer.Ordinal)], now, lifetime is { } l ? now + l : null);
        var hash = Hash(secret);
        await PrivateFile.UpdateAsync(
            Path,
            text =>
            {
                var root = Parse(text);
                ((JsonArray)root["tokens"]!).Add((JsonNode)ToJson(token, hash));
                return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
            },
            timeProvider: null,
            cancellationToken).ConfigureAwait(false);
        return (token, secret);
    }

    /// <summary>Lists the tokens (without secrets).</summary>
    /// <returns>The tokens, oldest first.</returns>
    public IReadOnlyList<GatewayToken> List() => [.. Load().Values.Select(v => v.Token).OrderBy(t => t.CreatedAt)];

    /// <summary>Revokes a token by id or name.</summary>
    /// <param name="idOrName">The id, or the name when it is unique.</param>
    /// <param name="cancellationToken">Stops waiting for the file lock.</param>
    /// <returns>How many tokens were revoked (0 when none matched).</returns>
    /// <exception cref="ArgumentException">The name matches several tokens.</exception>
    public async Task<int> RevokeAsync(string idOrName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(idOrName);
        var removed = 0;
        await PrivateFile.UpdateAsync(Path, text =>
        {
            var root = Parse(text);
            var tokens = (JsonArray)root["tokens"]!;
            var matches = tokens.Where(t => t?["id"]?.GetValue<string>() == idOrName).ToList();
            if (matches.Count == 0)
            {
                matches = [.. tokens.Where(t => t?["name"]?.GetValue<string>() == idOrName)];
                if (matches.Count > 1)
                {
                    throw new ArgumentException($"Several tokens are named '{idOrName}'; revoke them by id ('mmcp token list' shows the ids).", nameof(idOrName));
                }
            }

            foreach (var m in matches)
            {
                tokens.Remove(m);
            }

            removed = matches.Count;
            return removed == 0 ? null : root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        }, timeProvider: null, cancellationToken).ConfigureAwait(false);
        return removed;
    }

    /// <summary>Checks a presented secret.</summary>
    /// <param name="secret">The bearer token as presented.</param>
    /// <returns>The token, or <see langword="null"/> when it is unknown, revoked or expired.</returns>
    public GatewayToken? Validate(string secret)
    {
        if (string.IsNullOrEmpty(secret) || !secret.StartsWith(Prefix, StringComparison.Ordinal) || secret.Length > 200)
        {
            return null;
        }

        var presented = Hash(secret);
        var key = Convert.ToHexStringLower(presented);
        if (!Load().TryGetValue(key, out var entry) || !CryptographicOperations.FixedTimeEquals(entry.Hash, presented))
        {
            return null;
        }

        return entry.Token.ExpiresAt is { } expires && expires <= _time.GetUtcNow() ? null : entry.Token;
    }

    /// <summary>Returns whether the store holds the token with this id and it has not expired.</summary>
    /// <param name="id">A token id (<see cref="IsStoreId"/>).</param>
    /// <returns>Whether a caller holding it may go on.</returns>
    internal bool IsActive(string id)
    {
        var now = _time.GetUtcNow();
        foreach (var (token, _) in Load().Values)
        {
            if (token.Id == id)
            {
                return token.ExpiresAt is not { } expires || expires > now;
            }
        }

        return false;
    }

    /// <summary>Why a caller's token no longer gives it the right it had: "expired", "revoked" (a token of this store that the store no longer holds), or <see langword="null"/> while it stands.</summary>
    /// <param name="token">The token a request or session was accepted with.</param>
    /// <returns>The reason, or <see langword="null"/>.</returns>
    internal string? Gone(GatewayToken token) =>
        token.ExpiresAt is { } expires && expires <= _time.GetUtcNow() ? "expired"
        : IsStoreId(token.Id) && !IsActive(token.Id) ? "revoked"
        : null;

    /// <summary>Returns whether an id is of the kind this store gives its tokens (8 hex digits), unlike an OAuth caller's.</summary>
    /// <param name="id">A token id.</param>
    /// <returns>Whether it is.</returns>
    internal static bool IsStoreId(string id) => id.Length == IdLength && id.All(char.IsAsciiHexDigitLower);

    private Dictionary<string, (GatewayToken Token, byte[] Hash)> Load()
    {
        var readAt = FileStamp.ReadTime;
        var stamp = PrivateFile.Stamp(Path);
        lock (_gate)
        {
            if (stamp == _stamp)
            {
                return _byHash;
            }
        }

        var root = Parse(PrivateFile.Read(Path));
        var map = new Dictionary<string, (GatewayToken, byte[])>(StringComparer.Ordinal);
        foreach (var node in (JsonArray)root["tokens"]!)
        {
            if (node is not JsonObject o || o["hash"]?.GetValue<string>() is not { Length: 64 } hex)
            {
                continue;
            }

            var scopes = (o["scopes"] as JsonArray)?.Select(s => s?.GetValue<string>()).OfType<string>().ToList() ?? [];
            var token = new GatewayToken(
                o["id"]?.GetValue<string>() ?? "?",
                o["name"]?.GetValue<string>() ?? string.Empty,
                scopes,
                ParseTime(o["createdAt"]) ?? DateTimeOffset.UnixEpoch,
                ParseTime(o["expiresAt"]));
            map[hex] = (token, Convert.FromHexString(hex));
        }

        lock (_gate)
        {
            _byHash = map;
            _stamp = stamp.KeepFor(readAt);
        }

        return map;
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static JsonObject ToJson(GatewayToken token, byte[] hash) => new()
    {
        ["id"] = token.Id,
        ["name"] = token.Name,
        ["scopes"] = new JsonArray([.. token.Scopes.Select(s => (JsonNode)JsonValue.Create(s))]),
        ["hash"] = Convert.ToHexStringLower(hash),
        ["createdAt"] = token.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
        ["expiresAt"] = token.ExpiresAt?.ToString("O", CultureInfo.InvariantCulture),
    };

    private static DateTimeOffset? ParseTime(JsonNode? node) =>
        node?.GetValue<string>() is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    private static JsonObject Parse(string? text)
    {
        JsonObject root;
        try
        {
            root = string.IsNullOrWhiteSpace(text) ? [] : JsonNode.Parse(text) as JsonObject ?? [];
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The token file is not valid JSON ({ex.Message}). Fix or delete it (deleting revokes every token).", ex);
        }

        if (root["tokens"] is not JsonArray)
        {
            root["tokens"] = new JsonArray();
        }

        root["version"] = 1;
        return root;
    }
}
