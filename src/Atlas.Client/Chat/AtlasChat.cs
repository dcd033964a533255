using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Atlas.Client.Connection;
using Atlas.Client.Protocol;

namespace Atlas.Client.Chat;

/// <summary>Chat over an <see cref="AtlasConnection"/>: send a message and read its numbered events, resume after a
/// reconnect, cancel, and manage conversations.</summary>
/// <remarks>
/// A generation belongs to the desktop: when the socket drops, <see cref="SendAsync"/> keeps reading after the
/// connection comes back, sending <c>resume</c> with the last <c>seq</c> it received (or, when no event arrived yet, the
/// same message again with the same request id, which the desktop never answers twice). Events are delivered once, in
/// order; a <c>snapshot</c> replaces everything before it. Only <see cref="CancelAsync"/> stops a generation; cancelling
/// the enumeration only stops reading.
/// </remarks>
public sealed class AtlasChat
{
    private readonly AtlasConnection _connection;

    /// <summary>Creates the chat API over a connection.</summary>
    /// <param name="connection">An open connection.</param>
    public AtlasChat(AtlasConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
    }

    /// <summary>Changes pushed by the desktop on behalf of this device's other sessions (<c>chat_response</c> and
    /// <c>conversation_response</c> frames without <c>re</c>), together with the connection's other unsolicited frames.</summary>
    public ChannelReader<AtlasEnvelope> Events => _connection.Events;

    /// <summary>A new request id (UUIDv7): create it when the user presses send and keep it with the message in an outbox,
    /// so a resend after a crash or reconnect is recognized as the same message.</summary>
    /// <returns>The id.</returns>
    public static string NewRequestId() => Guid.CreateVersion7().ToString("N");

    /// <summary>Sends a message (or attaches to the generation its request id already started) and yields its events
    /// until the terminal one (<c>done</c>, <c>error</c>, <c>cancelled</c>, or a terminal <c>snapshot</c>).</summary>
    /// <param name="message">The message.</param>
    /// <param name="requestId">The idempotency key; <see cref="NewRequestId"/> when omitted.</param>
    /// <param name="cancellationToken">Stops reading (the generation goes on; resume it later).</param>
    /// <returns>The events.</returns>
    /// <exception cref="AtlasException">The desktop refused the message (for example <c>llm_not_configured</c>).</exception>
    public IAsyncEnumerable<ChatEvent> SendAsync(ChatMessageRequest message, string? requestId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var data = JsonSerializer.SerializeToElement(message, AtlasJsonContext.Default.ChatMessageRequest);
        return StreamAsync(MessageTypes.ChatMessage, data, requestId ?? NewRequestId(), null, 0, cancellationToken);
    }

    /// <summary>Reads a generation from after <paramref name="lastSeq"/> (or a snapshot) until its terminal event.</summary>
    /// <param name="messageId">The assistant message.</param>
    /// <param name="lastSeq">The last sequence number received (0 for none).</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The events.</returns>
    public IAsyncEnumerable<ChatEvent> ResumeAsync(string messageId, long lastSeq, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        return StreamAsync(MessageTypes.Resume, Resume(messageId, lastSeq), NewRequestId(), messageId, lastSeq, cancellationToken);
    }

    /// <summary>Stops a generation; the desktop closes its request to the provider.</summary>
    /// <param name="messageId">The assistant message.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The message's status afterwards.</returns>
    public async Task<ChatCancelResult> CancelAsync(string messageId, CancellationToken cancellationToken = default)
    {
        var reply = await _connection.RequestAsync(MessageTypes.ChatCancel,
            JsonSerializer.SerializeToElement(new ChatCancelRequest { MessageId = messageId }, AtlasJsonContext.Default.ChatCancelRequest),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return reply.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatCancelResult)!;
    }

    /// <summary>The device's conversations, most recently updated first.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The conversations.</returns>
    public async Task<IReadOnlyList<ConversationInfo>> ListConversationsAsync(CancellationToken cancellationToken = default) =>
        (await ConversationAsync(new ConversationRequest { Op = "list" }, cancellationToken).ConfigureAwait(false)).Conversations ?? [];

    /// <summary>A conversation with its messages (a message still being generated carries its text so far and its
    /// <c>lastSeq</c>, to resume from).</summary>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The conversation and messages.</returns>
    public Task<ConversationResponse> LoadConversationAsync(string conversationId, CancellationToken cancellationToken = default) =>
        ConversationAsync(new ConversationRequest { Op = "load", ConversationId = conversationId }, cancellationToken);

    /// <summary>Renames a conversation.</summary>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="title">The new title (1 to 200 characters).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The renamed conversation.</returns>
    public async Task<ConversationInfo> RenameConversationAsync(string conversationId, string title, CancellationToken cancellationToken = default) =>
        (await ConversationAsync(new ConversationRequest { Op = "rename", ConversationId = conversationId, Title = title }, cancellationToken)
            .ConfigureAwait(false)).Conversation!;

    /// <summary>Deletes a conversation (stopping its running generation first).</summary>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when it is deleted.</returns>
    public Task DeleteConversationAsync(string conversationId, CancellationToken cancellationToken = default) =>
        ConversationAsync(new ConversationRequest { Op = "delete", ConversationId = conversationId }, cancellationToken);

    /// <summary>Finds the device's conversations whose title or message text contains <paramref name="query"/> (as
    /// written, not as a pattern), most recently updated first, one page at a time.</summary>
    /// <param name="query">The text to find (1 to 200 characters).</param>
    /// <param name="limit">At most this many conversations (1 to 50; the desktop's default is 20).</param>
    /// <param name="cursor">The previous page's <see cref="ConversationResponse.Next"/>, for the page after it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The page: <see cref="ConversationResponse.Conversations"/> (each with its <see cref="ConversationInfo.Match"/>)
    /// and <see cref="ConversationResponse.Next"/> when more follow.</returns>
    public Task<ConversationResponse> SearchConversationsAsync(string query, int? limit = null, string? cursor = null,
        CancellationToken cancellationToken = default) =>
        ConversationAsync(new ConversationRequest { Op = "search", Query = query, Limit = limit, Cursor = cursor }, cancellationToken);

    private async Task<ConversationResponse> ConversationAsync(ConversationRequest request, CancellationToken cancellationToken)
    {
        var reply = await _connection.RequestAsync(MessageTypes.ConversationRequest,
            JsonSerializer.SerializeToElement(request, AtlasJsonContext.Default.ConversationRequest), cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return reply.Data!.Value.Deserialize(AtlasJsonContext.Default.ConversationResponse)!;
    }

    private async IAsyncEnumerable<ChatEvent> StreamAsync(string type, JsonElement data, string requestId, string? messageId, long lastSeq,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ids = new List<string> { requestId };
        var channel = _connection.OpenStream(requestId);
        try
        {
            var seen = _connection.Reconnects;
            await _connection.TrySendAsync(new AtlasEnvelope { Type = type, Id = requestId, Data = data }, cancellationToken).ConfigureAwait(false);
            while (true)
            {
                var readable = channel.Reader.WaitToReadAsync(cancellationToken).AsTask();
                var reconnected = _connection.WhenReconnectedAsync(seen);
                if (await Task.WhenAny(readable, reconnected).ConfigureAwait(false) == reconnected && !readable.IsCompleted)
                {
                    seen = _connection.Reconnects;
                    if (messageId is null)
                    {
                        // Nothing arrived yet: the same frame again (same id, so the desktop attaches to the first one).
                        await _connection.TrySendAsync(new AtlasEnvelope { Type = type, Id = requestId, Data = data }, cancellationToken)
                            .ConfigureAwait(false);
                    }
                    else
                    {
                        var resumeId = NewRequestId();
                        _connection.OpenStream(resumeId, channel);
                        ids.Add(resumeId);
                        await _connection.TrySendAsync(new AtlasEnvelope { Type = MessageTypes.Resume, Id = resumeId, Data = Resume(messageId, lastSeq) },
                            cancellationToken).ConfigureAwait(false);
                    }

                    continue;
                }

                if (!await readable.ConfigureAwait(false))
                {
                    yield break;
                }

                while (channel.Reader.TryRead(out var envelope))
                {
                    if (envelope.Type == MessageTypes.Error)
                    {
                        throw new AtlasException(envelope.Error?.Code ?? ErrorCodes.InternalError, envelope.Error?.Message ?? "Unknown error.")
                        {
                            RetryAfter = envelope.Error?.RetryAfter,
                        };
                    }

                    if (envelope.Type != MessageTypes.ChatResponse || envelope.Data is not { } payload)
                    {
                        continue;
                    }

                    var chatEvent = payload.Deserialize(AtlasJsonContext.Default.ChatEvent)!;
                    if (chatEvent.Kind != ChatEventKinds.Snapshot && chatEvent.Seq <= lastSeq)
                    {
                        continue; // already delivered before a reconnect
                    }

                    lastSeq = Math.Max(lastSeq, chatEvent.Seq);
                    messageId ??= chatEvent.MessageId;
                    yield return chatEvent;
                    if (ChatEventKinds.IsTerminal(chatEvent.Kind, chatEvent.Status))
                    {
                        yield break;
                    }
                }
            }
        }
        finally
        {
            foreach (var id in ids)
            {
                _connection.CloseStream(id);
            }
        }
    }

    private static JsonElement Resume(string messageId, long lastSeq) =>
        JsonSerializer.SerializeToElement(new ChatResumeRequest { MessageId = messageId, LastSeq = lastSeq }, AtlasJsonContext.Default.ChatResumeRequest);
}
