namespace Atlas.Client.Offline;

/// <summary>Durable storage of the outbox (SQLite in <see cref="SqliteClientStore"/>; a MAUI app may bring its own).</summary>
public interface IOutboxStore
{
    /// <summary>Adds an item; it is durable when the task completes.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the item is stored.</returns>
    ValueTask AddAsync(OutboxItem item, CancellationToken cancellationToken = default);

    /// <summary>The waiting items, oldest first.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The items.</returns>
    ValueTask<IReadOnlyList<OutboxItem>> PendingAsync(CancellationToken cancellationToken = default);

    /// <summary>Fixes the conversation of a waiting item (once the conversation it continues exists), so a resend carries
    /// exactly the body the desktop saw first.</summary>
    /// <param name="requestId">The item.</param>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the change is stored.</returns>
    ValueTask SetConversationAsync(string requestId, string conversationId, CancellationToken cancellationToken = default);

    /// <summary>Removes an item the desktop accepted (or refused for good).</summary>
    /// <param name="requestId">The item.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the item is gone.</returns>
    ValueTask RemoveAsync(string requestId, CancellationToken cancellationToken = default);
}
