using ModelContextProtocol.Authentication;
using Shared.Storage;

namespace Mmcp.Client.Authorization;

/// <summary>
/// The SDK's token cache for one server, backed by that server's file in <see cref="OAuthTokenStore"/>. The SDK asks
/// for the tokens on every request, so the file is read again only when it changed (another process signed in).
/// Tokens issued for another URL (the definition changed) are not used.
/// </summary>
internal sealed class FileTokenCache : ITokenCache
{
    private readonly OAuthTokenStore _store;
    private readonly string _serverId;
    private readonly Uri _url;
    private readonly Lock _gate = new();
    private FileStamp _stamp = FileStamp.Unread;
    private TokenContainer? _tokens;
    private bool _ignoreFile;

    /// <summary>Initializes a new instance of the <see cref="FileTokenCache"/> class.</summary>
    /// <param name="store">The store.</param>
    /// <param name="serverId">The server.</param>
    /// <param name="url">The server URL.</param>
    /// <param name="ignoreExisting">Whether to start as if nothing was stored (an interactive sign-in) until the first new tokens arrive.</param>
    public FileTokenCache(OAuthTokenStore store, string serverId, Uri url, bool ignoreExisting)
    {
        _store = store;
        _serverId = serverId;
        _url = url;
        _ignoreFile = ignoreExisting;
    }

    /// <summary>Gets the tokens held when the cache was created or last read (for messages: whether a sign-in existed and its scopes).</summary>
    public TokenContainer? Current
    {
        get
        {
            lock (_gate)
            {
                return _ignoreFile ? _tokens : Load();
            }
        }
    }

    /// <summary>Gets the number of times new tokens were stored.</summary>
    public int Stored { get; private set; }

    /// <summary>
    /// Gets or sets, for an interactive sign-in (nothing stored yet), a client registration to offer the SDK as expired
    /// tokens without tokens: it restores the client from them (when they name the authorization server it selected)
    /// instead of registering a new one.
    /// </summary>
    public Func<TokenContainer?>? Registration { get; set; }

    public ValueTask<TokenContainer?> GetTokensAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_ignoreFile ? _tokens ?? Registration?.Invoke() : Load());
        }
    }

    public async ValueTask StoreTokensAsync(TokenContainer tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        await _store.WriteAsync(_serverId, _url, tokens, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _tokens = tokens;
            _stamp = FileStamp.Unread; // what the file holds now is read from it next time
            _ignoreFile = false;
            Stored++;
        }
    }

    private TokenContainer? Load()
    {
        var readAt = FileStamp.ReadTime;
        var stamp = _store.Stamp(_serverId);
        if (stamp != _stamp)
        {
            _stamp = stamp.KeepFor(readAt);
            var entry = _store.Read(_serverId);
            _tokens = entry is not null && SameResource(entry.Url, _url) ? entry.Tokens : null;
        }

        return _tokens;
    }

    private static bool SameResource(Uri a, Uri b) =>
        string.Equals(a.GetLeftPart(UriPartial.Path).TrimEnd('/'), b.GetLeftPart(UriPartial.Path).TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
