using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Conversations;
using Atlas.Desktop.Chat.Generations;
using Atlas.Desktop.Chat.Llm;
using Atlas.Desktop.Chat.Tools;
using Atlas.Desktop.Files;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Chat;

/// <summary>
/// The chat feature behind <see cref="IChatService"/>: validates a message, records the turn, starts a server-owned
/// generation and attaches readers to it. A repeated request id attaches to the generation it started (or gets its
/// stored snapshot) and never calls the model again; the same id with a different message is refused.
/// </summary>
internal sealed class ChatService : IChatService
{
    public const string NotConfiguredMessage =
        "Chat needs an LLM and none is configured on this desktop: set OPENROUTER_API_KEY (or Atlas:Llm:ApiKey), or point "
        + "Atlas:Llm:BaseUrl at a local OpenAI-compatible server (Ollama, LM Studio, vLLM, llama.cpp), then restart atlas.";

    public const string NoticeToolsUnsupported = "tools_unsupported";
    private const int HistoryLimit = 200;
    private const int LoadLimit = 1000;
    private const int MaxSearchLength = 200;
    private const int DefaultSearchLimit = 20;
    private const int MaxSearchLimit = 50;
    private static readonly TimeSpan CancelWait = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    // Makes "what is still running in this conversation" and registering the new answer one step.
    private readonly Lock _order = new();
    private readonly GenerationManager _generations;
    private readonly GenerationRunner _runner;
    private readonly IConversationStore _store;
    private readonly LlmClientFactory _llm;
    private readonly ModelCatalog _models;
    private readonly IChatToolProvider _tools;
    private readonly DeviceFileSystem _files;
    private readonly ChatBroadcaster _broadcast;
    private readonly ChatLimiter _limiter;
    private readonly ChatFeatureOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ChatService> _logger;

    public ChatService(GenerationManager generations, GenerationRunner runner, IConversationStore store, LlmClientFactory llm, ModelCatalog models,
        IChatToolProvider tools, DeviceFileSystem files, ChatBroadcaster broadcast, ChatLimiter limiter, IOptions<AtlasOptions> options,
        AtlasTime time, ILogger<ChatService> logger)
    {
        _generations = generations;
        _runner = runner;
        _store = store;
        _llm = llm;
        _models = models;
        _tools = tools;
        _files = files;
        _broadcast = broadcast;
        _limiter = limiter;
        _options = options.Value.Chat;
        _time = time.Provider;
        _logger = logger;
    }

    public async IAsyncEnumerable<JsonElement> SendAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var message = Parse(request.Data, AtlasJsonContext.Default.ChatMessageRequest,
            """chat_message needs data like {"text":"…","conversationId":"…"}.""");
        Validate(message);
        var hash = SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(message, AtlasJsonContext.Default.ChatMessageRequest));
        var (generation, stored) = await AttachOrStartAsync(request, message, hash, cancellationToken).ConfigureAwait(false);
        if (generation is null)
        {
            yield return Element(SnapshotOf(stored!), AtlasJsonContext.Default.ChatEvent);
            yield break;
        }

        await foreach (var element in generation.ReadAsync(request.AfterSeq, request.Origin, cancellationToken).ConfigureAwait(false))
        {
            yield return element;
        }
    }

    public async IAsyncEnumerable<JsonElement> ResumeAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var resume = Parse(request.Data, AtlasJsonContext.Default.ChatResumeRequest, """resume needs data like {"messageId":"msg_…","lastSeq":12}.""");
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

        yield return Element(SnapshotOf(stored), AtlasJsonContext.Default.ChatEvent);
    }

    public async Task<JsonElement> CancelAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var cancel = Parse(request.Data, AtlasJsonContext.Default.ChatCancelRequest, """chat_cancel needs data like {"messageId":"msg_…"}.""");
        string status;
        if (_generations.Find(request.DeviceId, cancel.MessageId) is { } generation)
        {
            if (generation.RequestStop(ChatStatus.Cancelled))
            {
                ChatLog.GenerationCancelled(_logger, generation.MessageId, request.DeviceId);
            }

            await WaitFinishedAsync([generation], cancellationToken).ConfigureAwait(false);
            status = generation.Status;
        }
        else
        {
            status = (await _store.GetMessageAsync(request.DeviceId, cancel.MessageId, cancellationToken).ConfigureAwait(false)) is { Message.Role: "assistant" } stored
                ? stored.Message.Status
                : throw new AtlasException(ErrorCodes.NotFound, $"No answer '{cancel.MessageId}' on this device.");
        }

        return Element(new ChatCancelResult { MessageId = cancel.MessageId, Status = status }, AtlasJsonContext.Default.ChatCancelResult);
    }

    public async Task<JsonElement> ConversationAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var operation = Parse(request.Data, AtlasJsonContext.Default.ConversationRequest,
            """conversation_request needs data like {"op":"list"} or {"op":"load","conversationId":"cnv_…"}.""");
        var device = request.DeviceId;
        ConversationResponse response;
        switch (operation.Op)
        {
            case "list":
                response = new ConversationResponse { Op = "list", Conversations = [.. await _store.ListAsync(device, cancellationToken).ConfigureAwait(false)] };
                break;
            case "load":
                var conversation = await RequireConversationAsync(device, operation.ConversationId, cancellationToken).ConfigureAwait(false);
                var messages = (await _store.LoadAsync(conversation.Id, LoadLimit, cancellationToken).ConfigureAwait(false))
                    .Select(m => m.Status == ChatStatus.Streaming && _generations.Find(device, m.Id) is { } live ? live.ToView() : m)
                    .ToList();
                response = new ConversationResponse { Op = "load", Conversation = conversation, Messages = messages };
                break;
            case "rename":
                var title = operation.Title?.Trim() ?? "";
                if (title.Length is 0 or > 200 || title.Any(char.IsControl))
                {
                    throw new AtlasException(ErrorCodes.BadRequest, "A conversation title must be 1 to 200 printable characters.");
                }

                await RequireConversationAsync(device, operation.ConversationId, cancellationToken).ConfigureAwait(false);
                if (!await _store.RenameAsync(device, operation.ConversationId!, title, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
                {
                    throw NoConversation(operation.ConversationId);
                }

                response = new ConversationResponse
                {
                    Op = "rename",
                    Conversation = await RequireConversationAsync(device, operation.ConversationId, cancellationToken).ConfigureAwait(false),
                };
                Publish(device, new ConversationResponse { Op = "changed", Conversation = response.Conversation }, request.Origin);
                break;
            case "delete":
                await RequireConversationAsync(device, operation.ConversationId, cancellationToken).ConfigureAwait(false);
                var running = _generations.Running(device, operation.ConversationId!);
                foreach (var generation in running)
                {
                    generation.RequestStop(ChatStatus.Cancelled);
                }

                await WaitFinishedAsync(running, cancellationToken).ConfigureAwait(false);
                if (!await _store.DeleteAsync(device, operation.ConversationId!, cancellationToken).ConfigureAwait(false))
                {
                    throw NoConversation(operation.ConversationId);
                }

                response = new ConversationResponse { Op = "delete", ConversationId = operation.ConversationId };
                Publish(device, new ConversationResponse { Op = "deleted", ConversationId = operation.ConversationId }, request.Origin);
                break;
            case "search":
                response = await SearchAsync(device, operation, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new AtlasException(ErrorCodes.BadRequest, "conversation_request op must be list, load, rename, delete or search.");
        }

        return Element(response, AtlasJsonContext.Default.ConversationResponse);
    }

    /// <summary>One page of the device's conversations whose title or messages contain the query; <c>next</c> names the
    /// last one shown when more may follow.</summary>
    private async Task<ConversationResponse> SearchAsync(string device, ConversationRequest operation, CancellationToken cancellationToken)
    {
        var query = operation.Query?.Trim() ?? "";
        if (query.Length is 0 or > MaxSearchLength || query.Any(char.IsControl))
        {
            throw new AtlasException(ErrorCodes.BadRequest, $"A search needs a query of 1 to {MaxSearchLength} printable characters.");
        }

        var limit = operation.Limit ?? DefaultSearchLimit;
        if (limit is < 1 or > MaxSearchLimit)
        {
            throw new AtlasException(ErrorCodes.BadRequest, $"A search limit must be 1 to {MaxSearchLimit}.");
        }

        ConversationCursor? after = null;
        if (operation.Cursor is { } cursor)
        {
            var dot = cursor.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || dot == cursor.Length - 1 || cursor.Length > 200
                || !long.TryParse(cursor.AsSpan(0, dot), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms))
            {
                throw new AtlasException(ErrorCodes.BadRequest, "The search cursor is not one this desktop gave out; start the search again without it.");
            }

            after = new ConversationCursor(DateTimeOffset.FromUnixTimeMilliseconds(ms), cursor[(dot + 1)..]);
        }

        // One more than asked tells whether another page follows.
        var found = await _store.SearchAsync(device, query, limit + 1, after, cancellationToken).ConfigureAwait(false);
        var page = found.Take(limit).ToList();
        return new ConversationResponse
        {
            Op = "search",
            Conversations = page,
            Next = found.Count > limit ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{page[^1].UpdatedAt.ToUnixTimeMilliseconds()}.{page[^1].Id}") : null,
        };
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
        if (!_llm.IsConfigured)
        {
            throw new AtlasException(ErrorCodes.LlmNotConfigured, NotConfiguredMessage);
        }

        var device = request.DeviceId;
        var model = string.IsNullOrWhiteSpace(message.Model) ? _llm.DefaultModel : message.Model;
        var info = await _models.ResolveAsync(model, cancellationToken).ConfigureAwait(false);
        var isNew = message.ConversationId is null;
        var conversationId = isNew
            ? NewId("cnv")
            : (await RequireConversationAsync(device, message.ConversationId, cancellationToken).ConfigureAwait(false)).Id;
        var images = await LoadImagesAsync(request, message, model, info, cancellationToken).ConfigureAwait(false);
        if (message.Replaces is { } replaces)
        {
            await StopForReplaceAsync(device, conversationId, replaces, cancellationToken).ConfigureAwait(false);
        }

        // The device's LLM budget, taken once the message is known to be new and well-formed and before anything is
        // recorded or billed; the concurrency slot is held until the answer has ended (and is saved).
        var permit = _limiter.Acquire(device);
        try
        {
            return await StartTurnAsync(request, message, hash, model, info, isNew, conversationId, images, permit, cancellationToken)
                .ConfigureAwait(false);
        }
        catch
        {
            permit.Dispose();
            throw;
        }
    }

    private async Task<Generation> StartTurnAsync(ChatRequest request, ChatMessageRequest message, byte[] hash, string model, ModelInfo? info,
        bool isNew, string conversationId, List<AIContent> images, IDisposable permit, CancellationToken cancellationToken)
    {
        var device = request.DeviceId;
        // The answers still streaming in this conversation, taken before the history is read: one that ends between
        // the read and this turn's registration below is then still waited for and the prompt rebuilt, instead of
        // this turn going out with the history of a moment ago (without that answer).
        Task[] earlier = isNew ? [] : RunningTurns(device, conversationId);
        var history = isNew ? [] : await _store.LoadAsync(conversationId, HistoryLimit, cancellationToken).ConfigureAwait(false);
        if (message.Replaces is { } replaces)
        {
            // The model sees the conversation as it was before the replaced message.
            history = [.. history.TakeWhile(m => m.Id != replaces)];
        }

        var (tools, notice) = await ToolsAsync(request, model, info, cancellationToken).ConfigureAwait(false);

        List<AIContent> parts = [new TextContent(PromptBuilder.UserText(message.Text, message.Attachments))];
        parts.AddRange(images);
        var prompt = new ChatMessage(ChatRole.User, parts);
        var (messages, _) = PromptBuilder.Build(_options.SystemPrompt, history, prompt, _options.HistoryTokenBudget);

        var now = _time.GetUtcNow();
        var user = new ChatMessageView
        {
            Id = NewId("msg"),
            Role = "user",
            Content = message.Text,
            Status = ChatStatus.Done,
            CreatedAt = now,
            RequestId = request.RequestId,
            Attachments = message.Attachments is { Count: > 0 } a ? a : null,
        };
        var assistant = new ChatMessageView { Id = NewId("msg"), Role = "assistant", Status = ChatStatus.Streaming, CreatedAt = now, Model = model };
        var title = Title(message);
        if (!await _store.StartTurnAsync(new NewTurn(device, request.RequestId, hash, conversationId, isNew, title, user, assistant, message.Replaces), cancellationToken)
            .ConfigureAwait(false))
        {
            throw new AtlasException(ErrorCodes.Conflict, $"The request id '{request.RequestId}' is being recorded by another request; send it again.");
        }

        var generation = new Generation(assistant.Id, device, conversationId, request.RequestId, hash, model, user, now,
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
            Model = model,
            Replaces = message.Replaces,
            UserMessage = user,
        });
        lock (_order)
        {
            earlier = [.. earlier, .. _generations.Running(device, conversationId).Select(g => g.Finished)];
            _generations.Register(generation);
        }

        _ = _runner.StartAsync(generation, new GenerationPlan(model, messages, tools, notice)
        {
            After = earlier,
            Rebuild = async ct =>
            {
                var saved = await _store.LoadAsync(conversationId, HistoryLimit, ct).ConfigureAwait(false);
                var before = saved.Where(m => m.Id != user.Id && m.Id != assistant.Id).ToList();
                return PromptBuilder.Build(_options.SystemPrompt, before, prompt, _options.HistoryTokenBudget).Messages;
            },
        });
        if (isNew)
        {
            Publish(device, new ConversationResponse
            {
                Op = "changed",
                Conversation = new ConversationInfo { Id = conversationId, Title = title, CreatedAt = now, UpdatedAt = now, MessageCount = 2 },
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

        await WaitFinishedAsync(running, cancellationToken).ConfigureAwait(false);
    }

    private Task[] RunningTurns(string device, string conversationId)
    {
        lock (_order)
        {
            return [.. _generations.Running(device, conversationId).Select(g => g.Finished)];
        }
    }

    private async Task<List<AIContent>> LoadImagesAsync(ChatRequest request, ChatMessageRequest message, string model, ModelInfo? info,
        CancellationToken cancellationToken)
    {
        var images = new List<AIContent>();
        foreach (var attachment in message.Attachments ?? [])
        {
            if (attachment.Kind != ChatAttachment.Image)
            {
                continue;
            }

            if (!request.Permissions.Contains(Permissions.FilesRead, StringComparer.Ordinal))
            {
                throw new AtlasException(ErrorCodes.Forbidden, "Attaching an image reads the device's files, which needs the 'files.read' permission.");
            }

            if (info?.Vision == false)
            {
                throw new AtlasException(ErrorCodes.ModelUnsupported,
                    $"The model '{model}' does not accept images; pick a vision model (GET /models marks them) or attach the image's media result as context.");
            }

            var (stream, relative) = _files.OpenRead(request.DeviceId, attachment.Path);
            await using (stream.ConfigureAwait(false))
            {
                if (stream.Length > _options.MaxImageBytes)
                {
                    throw new AtlasException(ErrorCodes.TooLarge,
                        $"The image '{relative}' is {stream.Length} bytes; images up to {_options.MaxImageBytes} bytes can go to a model (Atlas:Chat:MaxImageBytes).");
                }

                var bytes = new byte[stream.Length];
                await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
                var type = ImageType(bytes) ?? throw new AtlasException(ErrorCodes.BadRequest,
                    $"'{relative}' is not a JPEG, PNG, GIF or WebP image; process it with media_process and attach the result as context instead.");
                images.Add(new DataContent(bytes, type) { Name = relative });
            }
        }

        return images;
    }

    private async Task<(IReadOnlyList<AIFunction> Tools, AtlasError? Notice)> ToolsAsync(ChatRequest request, string model, ModelInfo? info,
        CancellationToken cancellationToken)
    {
        var allowed = request.Permissions.Any(p => p == Permissions.Tools || p.StartsWith(Permissions.ToolsServerPrefix, StringComparison.Ordinal));
        if (!allowed || _options.MaxToolRounds == 0)
        {
            return ([], null);
        }

        IReadOnlyList<AIFunction> tools;
        try
        {
            tools = await _tools.GetToolsAsync(request.DeviceId, request.Permissions, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ChatLog.ToolsUnavailable(_logger, e);
            return ([], new AtlasError { Code = ErrorCodes.ToolFailed, Message = "The desktop's tools could not be listed, so this answer was given without them." });
        }

        if (tools.Count > 0 && info?.Tools == false)
        {
            return ([], new AtlasError
            {
                Code = NoticeToolsUnsupported,
                Message = $"The model '{model}' does not support tool calling, so the desktop's tools were not offered; pick a model with tools to use them.",
            });
        }

        return (tools, null);
    }

    private void Validate(ChatMessageRequest message)
    {
        var attachments = message.Attachments ?? [];
        if (message.Text.Length > _options.MaxMessageChars)
        {
            throw new AtlasException(ErrorCodes.TooLarge, $"The message has {message.Text.Length} characters; the limit is {_options.MaxMessageChars} (Atlas:Chat:MaxMessageChars).");
        }

        if (string.IsNullOrWhiteSpace(message.Text) && attachments.Count == 0)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "The message is empty; send text, attachments or both.");
        }

        if (message.ConversationId is { } conversation && (conversation.Length is 0 or > 64 || conversation.Any(char.IsControl)))
        {
            throw new AtlasException(ErrorCodes.BadRequest, "conversationId must be an id from this desktop (up to 64 characters), or omitted for a new conversation.");
        }

        if (message.Replaces is { } replaces && (message.ConversationId is null || replaces.Length is 0 or > 64 || replaces.Any(char.IsControl)))
        {
            throw new AtlasException(ErrorCodes.BadRequest,
                "replaces must be the id of a user message (up to 64 characters) of the conversation named by conversationId.");
        }

        if (attachments.Count > _options.MaxAttachments)
        {
            throw new AtlasException(ErrorCodes.BadRequest, $"A message may carry up to {_options.MaxAttachments} attachments (Atlas:Chat:MaxAttachments).");
        }

        var images = 0;
        var contextChars = 0;
        foreach (var attachment in attachments)
        {
            switch (attachment.Kind)
            {
                case ChatAttachment.Image when !string.IsNullOrEmpty(attachment.Path):
                    images++;
                    break;
                case ChatAttachment.Context when !string.IsNullOrEmpty(attachment.Text) && (attachment.Title?.Length ?? 0) <= 200:
                    contextChars += attachment.Text.Length;
                    break;
                default:
                    throw new AtlasException(ErrorCodes.BadRequest,
                        """Each attachment is {"kind":"image","path":"<file in this device's space>"} or {"kind":"context","title":"…","text":"…"} (title up to 200 characters).""");
            }
        }

        if (images > _options.MaxImages)
        {
            throw new AtlasException(ErrorCodes.BadRequest, $"A message may carry up to {_options.MaxImages} images (Atlas:Chat:MaxImages).");
        }

        if (contextChars > _options.MaxContextChars)
        {
            throw new AtlasException(ErrorCodes.TooLarge,
                $"The attached context has {contextChars} characters; the limit is {_options.MaxContextChars} (Atlas:Chat:MaxContextChars).");
        }
    }

    private async Task<ConversationInfo> RequireConversationAsync(string deviceId, string? conversationId, CancellationToken cancellationToken) =>
        string.IsNullOrEmpty(conversationId)
            ? throw new AtlasException(ErrorCodes.BadRequest, "This operation needs a conversationId.")
            : await _store.GetAsync(deviceId, conversationId, cancellationToken).ConfigureAwait(false) ?? throw NoConversation(conversationId);

    private static AtlasException NoConversation(string? id) =>
        new(ErrorCodes.NotFound, $"No conversation '{id}' on this device; list them with conversation_request op list.");

    private void Publish(string deviceId, ConversationResponse change, object? origin) =>
        _broadcast.Send(deviceId, MessageTypes.ConversationResponse, Element(change, AtlasJsonContext.Default.ConversationResponse),
            connection => ReferenceEquals(connection, origin));

    private async Task WaitFinishedAsync(IReadOnlyList<Generation> generations, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(generations.Select(g => g.Finished)).WaitAsync(CancelWait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Stopping takes longer than usual (a tool call that ignores cancellation); the answer says where it is now.
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

    private static T Parse<T>(JsonElement data, JsonTypeInfo<T> type, string hint)
        where T : class
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            throw new AtlasException(ErrorCodes.BadRequest, hint);
        }

        try
        {
            return data.Deserialize(type) ?? throw new AtlasException(ErrorCodes.BadRequest, hint);
        }
        catch (JsonException)
        {
            throw new AtlasException(ErrorCodes.BadRequest, hint);
        }
    }

    private static string Title(ChatMessageRequest message)
    {
        var text = message.Text.Trim();
        var line = text.Split('\n', 2)[0].Trim();
        if (line.Length == 0)
        {
            return message.Attachments?.FirstOrDefault()?.Title ?? message.Attachments?.FirstOrDefault()?.Path ?? "New conversation";
        }

        return line.Length <= 60 ? line : string.Concat(line.AsSpan(0, 57).TrimEnd(), "…");
    }

    /// <summary>JPEG, PNG, GIF or WebP from the first bytes (never from the name).</summary>
    internal static string? ImageType(ReadOnlySpan<byte> bytes) => bytes switch
    {
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, ..] => "image/png",
        [0x47, 0x49, 0x46, 0x38, ..] => "image/gif",
        [0x52, 0x49, 0x46, 0x46, _, _, _, _, 0x57, 0x45, 0x42, 0x50, ..] => "image/webp",
        _ => null,
    };

    internal static string NewId(string prefix) => prefix + "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    private static JsonElement Element<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToElement(value, type);
}
