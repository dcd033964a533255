using Atlas.Client.Chat;
using Atlas.Client.Protocol;

namespace Atlas.Client.Offline;

/// <summary>The answer of a read through the conversation cache.</summary>
/// <typeparam name="T">What was read.</typeparam>
/// <param name="Value">The value.</param>
/// <param name="FromCache"><see langword="true"/> when it came from the cache (offline), so it may be out of date.</param>
public readonly record struct CachedRead<T>(T Value, bool FromCache);

/// <summary>Conversations readable offline: read from the desktop while connected (and kept in the cache), from the cache
/// while not.</summary>
/// <remarks>Pass the chat only while its connection is connected; pass <see langword="null"/> while offline. A failure of
/// an online read is thrown, not answered from the cache, so the app can tell "offline" from "refused".</remarks>
public sealed class ReadThroughConversations
{
    private readonly IConversationCache _cache;

    /// <summary>Creates the reader over a cache (for example a <see cref="SqliteClientStore"/>).</summary>
    /// <param name="cache">Where conversations are kept.</param>
    public ReadThroughConversations(IConversationCache cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        _cache = cache;
    }

    /// <summary>Lists conversations from the desktop (replacing the cached list) or, offline, from the cache.</summary>
    /// <param name="chat">The chat over a connected connection, or <see langword="null"/> while offline.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The conversations, most recently updated first, and where they came from.</returns>
    public async Task<CachedRead<IReadOnlyList<ConversationInfo>>> ListAsync(AtlasChat? chat, CancellationToken cancellationToken = default)
    {
        if (chat is not null)
        {
            var list = await chat.ListConversationsAsync(cancellationToken).ConfigureAwait(false);
            await _cache.SaveListAsync(list, cancellationToken).ConfigureAwait(false);
            return new(list, false);
        }

        return new(await _cache.ListAsync(cancellationToken).ConfigureAwait(false), true);
    }

    /// <summary>Loads a conversation with its messages from the desktop (caching it) or, offline, from the cache.</summary>
    /// <param name="chat">The chat over a connected connection, or <see langword="null"/> while offline.</param>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The conversation (offline: <see langword="null"/> when it was never loaded here) and where it came from.</returns>
    public async Task<CachedRead<ConversationResponse?>> LoadAsync(AtlasChat? chat, string conversationId,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationId);
        if (chat is not null)
        {
            var loaded = await chat.LoadConversationAsync(conversationId, cancellationToken).ConfigureAwait(false);
            await _cache.SaveConversationAsync(loaded, cancellationToken).ConfigureAwait(false);
            return new(loaded, false);
        }

        return new(await _cache.LoadAsync(conversationId, cancellationToken).ConfigureAwait(false), true);
    }
}
