using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Conversations;
using Atlas.Desktop.Chat.Generations;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Chat;

/// <summary>The exactly-once core of chat: send, resume and cancel. A send records the turn and starts a server-owned
/// generation; a repeated request id attaches to the generation it started (or gets its stored snapshot) and never
/// calls the model again; the same id with a different message is refused. What a turn holds comes from
/// <see cref="TurnBuilder"/>.</summary>
internal sealed class ChatSender
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    // Makes "what is still running in this conversation" and registering the new answer one step.
    private readonly Lock _order = new();
    private readonly GenerationManager _generations;
    private readonly GenerationRunner _runner;
    private readonly IConversationStore _store;
    private readonly TurnBuilder _turns;
    private readonly ChatBroadcaster _broadcast;
    private readonly ChatLimiter _limiter;
    private readonly ChatFeatureOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ChatSender> _logger;

    public ChatSender(GenerationManager generations, GenerationRunner runner, IConversationStore store, TurnBuilder turns, ChatBroadcaster broadcast,
        ChatLimiter limiter, IOptions<AtlasOptions> options, AtlasTime time, ILogger<ChatSender> logger)
    {
        _options = options.Value.Chat;
        _time = time.Provider;
        _generations = generations;
        _runner = runner;
        _store = store;
        _turns = turns;
        _broadcast = broadcast;
        _limiter = limiter;
        _logger = logger;
    }

    public async IAsyncEnumerable<JsonElement> SendAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var message = ChatJson.Parse(request.Data, AtlasJsonContext.Default.ChatMessageRequest,
            """chat_message needs data like {"text":"…","conversationId":"…"}.""");
        _turns.Validate(message);
        var hash = SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(message, AtlasJsonContext.Default.ChatMessageRequest));
        var (generation, stored) = await AttachOrStartAsync(request, message, hash, cancellationToken).ConfigureAwait(false);
        if (generation is null)
        {
            yield return ChatJson.Element(SnapshotOf(stored!), AtlasJsonContext.Default.ChatEvent);
            yield break;
        }

        await foreach (var element in generation.ReadAsync(request.AfterSeq, request.Origin, cancellationToken).ConfigureAwait(false))
        {
            yield return element;
        }
    }

    public async IAsyncEnumerable<JsonElement> ResumeAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var resume = ChatJson.Parse(request.Data, AtlasJsonContext.Default.ChatResumeRequest, """resume needs data like {"messageId":"msg_…","lastSeq":12}.""");
        if (resume.MessageId.Length is 0 or > 64 || resume.LastSeq < 0)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "resume needs a messageId and a lastSeq of 0 or more (the last seq the client received).");
        }

        if (_generations.Find(request.DeviceId, resume.MessageId) is { } generation)
        {
            if (resume.LastSeq > generation.LastSeq)
            {
                throw new AtlasException(ErrorCodes.BadRequest,
                    $"lastSeq {resume.LastSeq} is beyond the last event ({generation.LastSeq}) of message {resume.MessageId}; resume from what was received.");
            }

            await foreach (var element in generation.ReadAsync(resume.LastSeq, request.Origin, cancellationToken).ConfigureAwait(false))
            {
                yield return element;
            }

            yield break;
        }

        // Not in memory (finished long ago, or the desktop restarted): the stored message as one snapshot. A client may
        // have seen more than a crash let the desktop save, so a lastSeq beyond the stored one is not an error here.
        var stored = await _store.GetMessageAsync(request.DeviceId, resume.MessageId, cancellationToken).ConfigureAwait(false);
        if (stored is null || stored.Message.Role != "assistant")
        {
            throw new AtlasException(ErrorCodes.NotFound, $"No answer '{resume.MessageId}' on this device; reload the conversation.");
        }

        yield return ChatJson.Element(SnapshotOf(stored), AtlasJsonContext.Default.ChatEvent);
    }

    public async Task<JsonElement> CancelAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var cancel = ChatJson.Parse(request.Data, AtlasJsonContext.Default.ChatCancelRequest, """chat_cancel needs data like {"messageId":"msg_…"}.""");
        string status;
        if (_generations.Find(request.DeviceId, cancel.MessageId) is { } generation)
        {
            if (generation.RequestStop(ChatStatus.Cancelled))
            {
                ChatLog.GenerationCancelled(_logger, generation.MessageId, request.DeviceId);
            }

            await _generations.WaitFinishedAsync([generation], cancellationToken).ConfigureAwait(false);
            status = generation.Status;
        }
        else
        {
            status = (await _store.GetMessageAsync(request.DeviceId, cancel.MessageId, cancellationToken).ConfigureAwait(false)) is { Message.Role: "assistant" } stored
                ? stored.Message.Status
                : throw new AtlasException(ErrorCodes.NotFound, $"No answer '{cancel.MessageId}' on this device.");
        }

        return ChatJson.Element(new ChatCancelResult { MessageId = cancel.MessageId, Status = status }, AtlasJsonContext.Default.ChatCancelResult);
    }

    private async Task<(Generation? Live, StoredMessage? Stored)> AttachOrStartAsync(ChatRequest request, ChatMessageRequest message, byte[] hash,
        CancellationToken cancellationToken)
    {
        // One gate per device: a resent message racing its original (socket resend and REST retry) must find the
        // first one's record, never start a second generation.
        var gate = _gates.GetOrAdd(request.DeviceId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_generations.FindByRequest(request.DeviceId, request.RequestId) is { } live)
            {
                SameRequest(live.RequestHash, hash, request.RequestId);
                return (live, null);
            }

            if (await _store.FindRequestAsync(request.DeviceId, request.RequestId, cancellationToken).ConfigureAwait(false) is { } seen)
            {
                SameRequest(seen.Hash, hash, request.RequestId);
                if (_generations.Find(request.DeviceId, seen.MessageId) is { } again)
                {
                    return (again, null);
                }

                var stored = await _store.GetMessageAsync(request.DeviceId, seen.MessageId, cancellationToken).ConfigureAwait(false)
                    ?? throw new AtlasException(ErrorCodes.NotFound,
                        $"The message sent with request id '{request.RequestId}' was deleted (with its conversation, or by an edit or regenerate).");
                return (null, stored);
            }

            return (await StartAsync(request, message, hash, cancellationToken).ConfigureAwait(false), null);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<Generation> StartAsync(ChatRequest request, ChatMessageRequest message, byte[] hash, CancellationToken cancellationToken)
    {
        var target = await _turns.ResolveAsync(request, message, cancellationToken).ConfigureAwait(false);
        if (message.Replaces is { } replaces)
        {
            await StopForReplaceAsync(request.DeviceId, target.ConversationId, replaces, cancellationToken).ConfigureAwait(false);
        }

        // The device's LLM budget, taken once the message is known to be new and well-formed and before anything is
        // recorded or billed; the concurrency slot is held until the answer has ended (and is saved).
        var permit = _limiter.Acquire(request.DeviceId);
        try
        {
            return await StartTurnAsync(request, message, hash, target, permit, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            permit.Dispose();
            throw;
        }
    }

    private async Task<Generation> StartTurnAsync(ChatRequest request, ChatMessageRequest message, byte[] hash, TurnTarget target, IDisposable permit,
        CancellationToken cancellationToken)
    {
        var device = request.DeviceId;
        var conversationId = target.ConversationId;
        // The answers still streaming in this conversation, taken before the history is read: one that ends between
        // the read and this turn's registration below is then still waited for and the prompt rebuilt, instead of
        // this turn going out with the history of a moment ago (without that answer).
        Task[] earlier = target.IsNew ? [] : RunningTurns(device, conversationId);
        var turn = await _turns.BuildAsync(request, message, target, cancellationToken).ConfigureAwait(false);
        var (user, assistant, now) = (turn.User, turn.Assistant, turn.At);
        if (!await _store.StartTurnAsync(new NewTurn(device, request.RequestId, hash, conversationId, target.IsNew, turn.Title, user, assistant, message.Replaces),
            cancellationToken).ConfigureAwait(false))
        {
            throw new AtlasException(ErrorCodes.Conflict, $"The request id '{request.RequestId}' is being recorded by another request; send it again.");
        }

        var generation = new Generation(assistant.Id, device, conversationId, request.RequestId, hash, target.Model, user, now,
            _options.ReplayBufferBytes, _time)
        {
            Permit = permit,
        };
        var origin = request.Origin;
        // The socket that sent the message reads it on its own request; any other socket gets an event only if it has
        // every event before it (see Generation.ClaimBroadcast): a socket that came later resumes first.
        generation.OnEvent = (g, seq, element) => _broadcast.Send(g.DeviceId, MessageTypes.ChatResponse, element,
            connection => ReferenceEquals(connection, origin) || !g.ClaimBroadcast(connection, seq));
        generation.Append(new ChatEvent
        {
            Kind = ChatEventKinds.Start,
            ConversationId = conversationId,
            RequestId = request.RequestId,
            Model = target.Model,
            Replaces = message.Replaces,
            UserMessage = user,
        });
        lock (_order)
        {
            earlier = [.. earlier, .. _generations.Running(device, conversationId).Select(g => g.Finished)];
            _generations.Register(generation);
        }

        _ = _runner.StartAsync(generation, new GenerationPlan(target.Model, turn.Messages, turn.Tools, turn.Notice)
        {
            After = earlier,
            Rebuild = ct => _turns.RebuildAsync(conversationId, turn, ct),
        });
        if (target.IsNew)
        {
            _broadcast.Publish(device, new ConversationResponse
            {
                Op = "changed",
                Conversation = new ConversationInfo { Id = conversationId, Title = turn.Title, CreatedAt = now, UpdatedAt = now, MessageCount = 2 },
            }, origin);
        }

        return generation;
    }

    /// <summary>Edit, regenerate, retry: the replaced message must be a user message of the conversation; answers still
    /// running in it are stopped (cancelled, their text saved) before the turn that deletes them is recorded.</summary>
    private async Task StopForReplaceAsync(string device, string conversationId, string replaces, CancellationToken cancellationToken)
    {
        var stored = await _store.GetMessageAsync(device, replaces, cancellationToken).ConfigureAwait(false);
        if (stored is not { Message.Role: "user" } || stored.ConversationId != conversationId)
        {
            throw new AtlasException(ErrorCodes.NotFound,
                $"'{replaces}' is not a user message of conversation '{conversationId}' (it may have been replaced already); reload the conversation.");
        }

        var running = _generations.Running(device, conversationId);
        foreach (var generation in running)
        {
            if (generation.RequestStop(ChatStatus.Cancelled))
            {
                ChatLog.GenerationCancelled(_logger, generation.MessageId, device);
            }
        }

        await _generations.WaitFinishedAsync(running, cancellationToken).ConfigureAwait(false);
    }

    private Task[] RunningTurns(string device, string conversationId)
    {
        lock (_order)
        {
            return [.. _generations.Running(device, conversationId).Select(g => g.Finished)];
        }
    }

    private static void SameRequest(byte[] first, byte[] now, string requestId)
    {
        if (!CryptographicOperations.FixedTimeEquals(first, now))
        {
            throw new AtlasException(ErrorCodes.DuplicateRequest,
                $"The request id '{requestId}' was already used for a different message; give each new message a new id.");
        }
    }

    private static ChatEvent SnapshotOf(StoredMessage stored)
    {
        var message = stored.Message;
        var status = message.Status == ChatStatus.Streaming ? ChatStatus.Interrupted : message.Status;
        return new ChatEvent
        {
            MessageId = message.Id,
            Seq = message.LastSeq ?? 0,
            Kind = ChatEventKinds.Snapshot,
            ConversationId = stored.ConversationId,
            Model = message.Model,
            Status = status,
            Content = message.Content,
            Tools = message.Tools,
            FinishReason = message.FinishReason,
            Usage = message.Usage,
            Error = message.Error ?? (status == ChatStatus.Interrupted
                ? new AtlasError { Code = ErrorCodes.Interrupted, Message = "The desktop stopped while this answer was being generated." }
                : null),
        };
    }
}
