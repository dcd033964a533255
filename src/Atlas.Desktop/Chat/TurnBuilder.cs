using System.Security.Cryptography;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Conversations;
using Atlas.Desktop.Chat.Llm;
using Atlas.Desktop.Chat.Tools;
using Atlas.Desktop.Files;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Chat;

/// <summary>Where a new turn goes: the model (and what it can do), the conversation (new or the device's own) and the
/// attached images, read and checked before anything is recorded.</summary>
internal sealed record TurnTarget(string Model, ModelInfo? Info, bool IsNew, string ConversationId, IReadOnlyList<AIContent> Images);

/// <summary>A built turn: the user message and the streaming assistant message to record, the conversation title, and
/// what goes to the model (the prompt within the history window, the tools or a notice why there are none).</summary>
internal sealed record Turn(ChatMessageView User, ChatMessageView Assistant, string Title, ChatMessage Prompt, IReadOnlyList<ChatMessage> Messages,
    IReadOnlyList<AIFunction> Tools, AtlasError? Notice, DateTimeOffset At);

/// <summary>Turn building: checks a <c>chat_message</c> against the limits, resolves its model, conversation and
/// images, and builds the prompt (system prompt, history window, the message with its attachments) and the tools.
/// It records nothing; <see cref="ChatSender"/> does.</summary>
internal sealed class TurnBuilder
{
    public const string NoticeToolsUnsupported = "tools_unsupported";
    private const int HistoryLimit = 200;
    private readonly IConversationStore _store;
    private readonly LlmClientFactory _llm;
    private readonly ModelCatalog _models;
    private readonly IChatToolProvider _tools;
    private readonly DeviceFileSystem _files;
    private readonly ChatFeatureOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TurnBuilder> _logger;

    public TurnBuilder(IConversationStore store, LlmClientFactory llm, ModelCatalog models, IChatToolProvider tools, DeviceFileSystem files,
        IOptions<AtlasOptions> options, AtlasTime time, ILogger<TurnBuilder> logger)
    {
        _store = store;
        _llm = llm;
        _models = models;
        _tools = tools;
        _files = files;
        _options = options.Value.Chat;
        _time = time.Provider;
        _logger = logger;
    }

    /// <summary>The model, the conversation and the images of a message known to be new; throws with a stable code
    /// when one is missing, not the device's or not allowed.</summary>
    public async Task<TurnTarget> ResolveAsync(ChatRequest request, ChatMessageRequest message, CancellationToken cancellationToken)
    {
        if (!_llm.IsConfigured)
        {
            throw new AtlasException(ErrorCodes.LlmNotConfigured, LlmClientFactory.NotConfiguredMessage);
        }

        var model = string.IsNullOrWhiteSpace(message.Model) ? _llm.DefaultModel : message.Model;
        var info = await _models.ResolveAsync(model, cancellationToken).ConfigureAwait(false);
        var isNew = message.ConversationId is null;
        var conversationId = isNew
            ? NewId("cnv")
            : (await _store.RequireAsync(request.DeviceId, message.ConversationId, cancellationToken).ConfigureAwait(false)).Id;
        var images = await LoadImagesAsync(request, message, model, info, cancellationToken).ConfigureAwait(false);
        return new TurnTarget(model, info, isNew, conversationId, images);
    }

    /// <summary>Reads the history as saved now and builds the turn (the replaced message and everything after it
    /// left out: the model sees the conversation as it was before).</summary>
    public async Task<Turn> BuildAsync(ChatRequest request, ChatMessageRequest message, TurnTarget target, CancellationToken cancellationToken)
    {
        var history = target.IsNew ? [] : await _store.LoadAsync(target.ConversationId, HistoryLimit, cancellationToken).ConfigureAwait(false);
        if (message.Replaces is { } replaces)
        {
            history = [.. history.TakeWhile(m => m.Id != replaces)];
        }

        var (tools, notice) = await ToolsAsync(request, target.Model, target.Info, cancellationToken).ConfigureAwait(false);

        List<AIContent> parts = [new TextContent(PromptBuilder.UserText(message.Text, message.Attachments))];
        parts.AddRange(target.Images);
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
        var assistant = new ChatMessageView { Id = NewId("msg"), Role = "assistant", Status = ChatStatus.Streaming, CreatedAt = now, Model = target.Model };
        return new Turn(user, assistant, Title(message), prompt, messages, tools, notice, now);
    }

    /// <summary>The turn's messages built again from the saved history (once the answers it waited for are saved).</summary>
    public async Task<IReadOnlyList<ChatMessage>> RebuildAsync(string conversationId, Turn turn, CancellationToken cancellationToken)
    {
        var saved = await _store.LoadAsync(conversationId, HistoryLimit, cancellationToken).ConfigureAwait(false);
        var before = saved.Where(m => m.Id != turn.User.Id && m.Id != turn.Assistant.Id).ToList();
        return PromptBuilder.Build(_options.SystemPrompt, before, turn.Prompt, _options.HistoryTokenBudget).Messages;
    }

    /// <summary>Checks a message against the limits of <c>Atlas:Chat</c>; bad input throws and changes nothing.</summary>
    public void Validate(ChatMessageRequest message)
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
}
