using Atlas.Client.Protocol;

namespace Atlas.Client.Offline;

/// <summary>Conversations kept on the device so they can be listed and read while the desktop is unreachable.</summary>
public interface IConversationCache
{
    /// <summary>Replaces the cached list with the desktop's current one.</summary>
    /// <param name="conversations">The conversations, most recently updated first.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when stored.</returns>
    ValueTask SaveListAsync(IReadOnlyList<ConversationInfo> conversations, CancellationToken cancellationToken = default);

    /// <summary>The cached list, most recently updated first.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The conversations.</returns>
    ValueTask<IReadOnlyList<ConversationInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores a loaded conversation with its messages.</summary>
    /// <param name="conversation">The answer of a <c>load</c>.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when stored.</returns>
    ValueTask SaveConversationAsync(ConversationResponse conversation, CancellationToken cancellationToken = default);

    /// <summary>A cached conversation with its messages, or <see langword="null"/>.</summary>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The conversation or <see langword="null"/>.</returns>
    ValueTask<ConversationResponse?> LoadAsync(string conversationId, CancellationToken cancellationToken = default);
}
