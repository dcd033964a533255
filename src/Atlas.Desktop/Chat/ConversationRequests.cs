using System.Globalization;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Conversations;
using Atlas.Desktop.Chat.Generations;
using Atlas.Desktop.Hosting;
using Shared.Text;

namespace Atlas.Desktop.Chat;

/// <summary>Conversation CRUD for <c>conversation_request</c>: list, load (live answers as they are now), rename,
/// delete (running answers stopped first) and search; changes are shown to the device's other sessions.</summary>
internal sealed class ConversationRequests
{
    private const int LoadLimit = 1000;
    private const int MaxSearchLength = 200;
    private const int DefaultSearchLimit = 20;
    private const int MaxSearchLimit = 50;
    private readonly IConversationStore _store;
    private readonly GenerationManager _generations;
    private readonly ChatBroadcaster _broadcast;
    private readonly TimeProvider _time;

    public ConversationRequests(IConversationStore store, GenerationManager generations, ChatBroadcaster broadcast, AtlasTime time)
    {
        _store = store;
        _generations = generations;
        _broadcast = broadcast;
        _time = time.Provider;
    }

    public async Task<JsonElement> HandleAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var operation = ChatJson.Parse(request.Data, AtlasJsonContext.Default.ConversationRequest,
            """conversation_request needs data like {"op":"list"} or {"op":"load","conversationId":"cnv_…"}.""");
        var device = request.DeviceId;
        ConversationResponse response;
        switch (operation.Op)
        {
            case "list":
                response = new ConversationResponse { Op = "list", Conversations = [.. await _store.ListAsync(device, cancellationToken).ConfigureAwait(false)] };
                break;
            case "load":
                var conversation = await _store.RequireAsync(device, operation.ConversationId, cancellationToken).ConfigureAwait(false);
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

                if (BidiControls.In(title))
                {
                    throw new AtlasException(ErrorCodes.BadRequest,
                        "A conversation title must not contain characters that change the text direction (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C).");
                }

                await _store.RequireAsync(device, operation.ConversationId, cancellationToken).ConfigureAwait(false);
                if (!await _store.RenameAsync(device, operation.ConversationId!, title, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
                {
                    throw ConversationStoreExtensions.NoConversation(operation.ConversationId);
                }

                response = new ConversationResponse
                {
                    Op = "rename",
                    Conversation = await _store.RequireAsync(device, operation.ConversationId, cancellationToken).ConfigureAwait(false),
                };
                _broadcast.Publish(device, new ConversationResponse { Op = "changed", Conversation = response.Conversation }, request.Origin);
                break;
            case "delete":
                await _store.RequireAsync(device, operation.ConversationId, cancellationToken).ConfigureAwait(false);
                var running = _generations.Running(device, operation.ConversationId!);
                foreach (var generation in running)
                {
                    generation.RequestStop(ChatStatus.Cancelled);
                }

                await _generations.WaitFinishedAsync(running, cancellationToken).ConfigureAwait(false);
                if (!await _store.DeleteAsync(device, operation.ConversationId!, cancellationToken).ConfigureAwait(false))
                {
                    throw ConversationStoreExtensions.NoConversation(operation.ConversationId);
                }

                response = new ConversationResponse { Op = "delete", ConversationId = operation.ConversationId };
                _broadcast.Publish(device, new ConversationResponse { Op = "deleted", ConversationId = operation.ConversationId }, request.Origin);
                break;
            case "search":
                response = await SearchAsync(device, operation, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new AtlasException(ErrorCodes.BadRequest, "conversation_request op must be list, load, rename, delete or search.");
        }

        return ChatJson.Element(response, AtlasJsonContext.Default.ConversationResponse);
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
                || !long.TryParse(cursor.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
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
            Next = found.Count > limit ? string.Create(CultureInfo.InvariantCulture,
                $"{page[^1].UpdatedAt.ToUnixTimeMilliseconds()}.{page[^1].Id}") : null,
        };
    }
}
