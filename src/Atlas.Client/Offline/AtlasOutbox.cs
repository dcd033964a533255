using System.Runtime.CompilerServices;
using Atlas.Client.Chat;
using Atlas.Client.Protocol;

namespace Atlas.Client.Offline;

/// <summary>Chat messages written while the desktop is unreachable, kept durably and sent exactly once when it is back.</summary>
/// <remarks>
/// Each item keeps the request id it got when it was queued. Flushing sends items oldest first with that id; an item
/// leaves the outbox once the desktop has answered it with its first event (the desktop owns the generation from then
/// on). A crash between the send and the removal only causes a resend with the same id, which the desktop attaches to
/// the first one instead of asking the model again.
/// </remarks>
public sealed class AtlasOutbox : IDisposable
{
    private readonly IOutboxStore _store;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _flushLock = new(1, 1);

    /// <summary>Creates an outbox over a store.</summary>
    /// <param name="store">Where items are kept.</param>
    /// <param name="time">The clock for <see cref="OutboxItem.QueuedAt"/>.</param>
    public AtlasOutbox(IOutboxStore store, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Queues a message.</summary>
    /// <param name="message">The message.</param>
    /// <param name="continuesPrevious">The message has no conversation yet and continues the one the previously queued
    /// message starts.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored item.</returns>
    public async Task<OutboxItem> EnqueueAsync(ChatMessageRequest message, bool continuesPrevious = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var item = new OutboxItem(AtlasChat.NewRequestId(), message, _time.GetUtcNow(), continuesPrevious && message.ConversationId is null);
        await _store.AddAsync(item, cancellationToken).ConfigureAwait(false);
        return item;
    }

    /// <summary>The waiting items, oldest first.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The items.</returns>
    public ValueTask<IReadOnlyList<OutboxItem>> PendingAsync(CancellationToken cancellationToken = default) =>
        _store.PendingAsync(cancellationToken);

    /// <summary>Sends the waiting items in order and yields their events until each one's terminal event. An item the
    /// desktop refuses for good (a malformed or oversized message, an unknown model or conversation) leaves the outbox
    /// with an <c>error</c> event; a refusal that may pass later (no LLM configured, permission missing, desktop gone)
    /// stops the flush with an <see cref="AtlasException"/> and keeps the items.</summary>
    /// <param name="chat">The chat API over an open connection.</param>
    /// <param name="cancellationToken">Stops reading (items already accepted still leave the outbox).</param>
    /// <returns>The items' events.</returns>
    public async IAsyncEnumerable<OutboxDelivery> FlushAsync(AtlasChat chat, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chat);
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string? previousConversation = null;
            var items = await _store.PendingAsync(cancellationToken).ConfigureAwait(false);
            for (var index = 0; index < items.Count; index++)
            {
                var item = items[index];
                var follower = index + 1 < items.Count && items[index + 1].ContinuesPrevious ? items[index + 1] : null;
                if (item.ContinuesPrevious && previousConversation is not null)
                {
                    await _store.SetConversationAsync(item.RequestId, previousConversation, cancellationToken).ConfigureAwait(false);
                    item = item with { Message = WithConversation(item.Message, previousConversation), ContinuesPrevious = false };
                }

                var accepted = false;
                await using var events = chat.SendAsync(item.Message, item.RequestId, cancellationToken).GetAsyncEnumerator(cancellationToken);
                while (true)
                {
                    ChatEvent? next;
                    AtlasError? refused = null;
                    try
                    {
                        next = await events.MoveNextAsync().ConfigureAwait(false) ? events.Current : null;
                    }
                    catch (AtlasException e) when (!accepted && IsPermanent(e.Code))
                    {
                        next = null;
                        refused = new AtlasError { Code = e.Code, Message = e.Message };
                    }

                    if (refused is not null)
                    {
                        await BindFollowerAsync(follower, previousConversation, cancellationToken).ConfigureAwait(false);
                        await _store.RemoveAsync(item.RequestId, cancellationToken).ConfigureAwait(false);
                        yield return new OutboxDelivery(item, new ChatEvent { Kind = ChatEventKinds.Error, Error = refused });
                        break;
                    }

                    if (next is null)
                    {
                        break;
                    }

                    previousConversation = next.ConversationId ?? previousConversation;
                    if (!accepted)
                    {
                        accepted = true;

                        // The follow-up learns its conversation before this item leaves the outbox: a flush that stops
                        // here (the reader quits, the process dies) must not send it into a new conversation next time.
                        await BindFollowerAsync(follower, previousConversation, cancellationToken).ConfigureAwait(false);
                        await _store.RemoveAsync(item.RequestId, cancellationToken).ConfigureAwait(false);
                    }

                    yield return new OutboxDelivery(item, next);
                }
            }
        }
        finally
        {
            _flushLock.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _flushLock.Dispose();

    private async ValueTask BindFollowerAsync(OutboxItem? follower, string? conversationId, CancellationToken cancellationToken)
    {
        if (follower is not null && conversationId is not null)
        {
            await _store.SetConversationAsync(follower.RequestId, conversationId, cancellationToken).ConfigureAwait(false);
        }
    }

    private static ChatMessageRequest WithConversation(ChatMessageRequest message, string conversationId) => new()
    {
        ConversationId = conversationId,
        Text = message.Text,
        Model = message.Model,
        Attachments = message.Attachments,
    };

    private static bool IsPermanent(string code) =>
        code is ErrorCodes.BadRequest or ErrorCodes.TooLarge or ErrorCodes.DuplicateRequest or ErrorCodes.ModelUnsupported
            or ErrorCodes.NotFound or ErrorCodes.InvalidPath;
}

/// <summary>One event of a message sent from the outbox.</summary>
/// <param name="Item">The outbox item.</param>
/// <param name="Event">The event.</param>
public sealed record OutboxDelivery(OutboxItem Item, ChatEvent Event);
