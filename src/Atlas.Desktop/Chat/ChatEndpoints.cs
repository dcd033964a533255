using System.Globalization;
using System.Text;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Chat.Llm;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Media;
using Atlas.Desktop.Realtime;
using Microsoft.AspNetCore.Http.Features;

namespace Atlas.Desktop.Chat;

/// <summary>Chat over REST: <c>POST /chat/message</c> and <c>GET /chat/stream/{messageId}</c> answer server-sent events
/// (<c>id:</c> = seq, <c>Last-Event-ID</c> resumes), <c>POST /chat/cancel</c>, the conversation routes and
/// <c>GET /models</c>; plus <c>POST /media/process</c>. The request id comes from the <c>Idempotency-Key</c> header or
/// the body's <c>id</c>.</summary>
internal static class ChatEndpoints
{
    /// <summary>A comment line is written when a stream has been silent this long, so phones and proxies keep it open.</summary>
    internal static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    public static void MapChatAndMedia(this IEndpointRouteBuilder app)
    {
        app.MapPost("/chat/message", MessageAsync).RequireAuthorization().RequirePermission(Permissions.Chat).WithAtlasErrors();
        app.MapGet("/chat/stream/{messageId}", StreamAsync).RequireAuthorization().RequirePermission(Permissions.Chat).WithAtlasErrors();
        app.MapPost("/chat/cancel", CancelAsync).RequireAuthorization().RequirePermission(Permissions.Chat).WithAtlasErrors();
        app.MapGet("/chat/conversations", (HttpContext context, IChatService chat) =>
            ConversationAsync(context, chat, ListOrSearch(context.Request.Query)))
            .RequireAuthorization().RequirePermission(Permissions.Chat).WithAtlasErrors();
        app.MapGet("/chat/conversations/{id}", (HttpContext context, IChatService chat, string id) =>
            ConversationAsync(context, chat, new ConversationRequest { Op = "load", ConversationId = id }))
            .RequireAuthorization().RequirePermission(Permissions.Chat).WithAtlasErrors();
        app.MapPatch("/chat/conversations/{id}", RenameAsync).RequireAuthorization().RequirePermission(Permissions.Chat).WithAtlasErrors();
        app.MapDelete("/chat/conversations/{id}", (HttpContext context, IChatService chat, string id) =>
            ConversationAsync(context, chat, new ConversationRequest { Op = "delete", ConversationId = id }))
            .RequireAuthorization().RequirePermission(Permissions.Chat).WithAtlasErrors();
        app.MapGet("/models", async (HttpContext context, ModelCatalog models) =>
            Results.Json(await models.ListAsync(context.RequestAborted).ConfigureAwait(false), AtlasJsonContext.Default.ModelList))
            .RequireAuthorization().RequirePermission(Permissions.Chat).WithAtlasErrors();
        app.MapPost("/media/process", MediaAsync).RequireAuthorization().RequirePermission(Permissions.MediaProcess).WithAtlasErrors();
    }

    private static async Task MessageAsync(HttpContext context, IChatService chat, AtlasTime time)
    {
        var (id, data) = await ReadAsync(context).ConfigureAwait(false);
        var request = RequestOf(context, id, data) with { AfterSeq = LastEventId(context) ?? 0 };
        await WriteEventsAsync(context, chat.SendAsync(request, context.RequestAborted), id, time.Provider).ConfigureAwait(false);
    }

    private static async Task StreamAsync(HttpContext context, IChatService chat, AtlasTime time, string messageId)
    {
        var lastSeq = LastEventId(context)
            ?? (long.TryParse(context.Request.Query["lastSeq"], NumberStyles.None, CultureInfo.InvariantCulture, out var q) ? q : 0);
        var data = JsonSerializer.SerializeToElement(new ChatResumeRequest { MessageId = messageId, LastSeq = lastSeq },
            AtlasJsonContext.Default.ChatResumeRequest);
        var id = context.Request.Headers["Idempotency-Key"].ToString() is { Length: > 0 and <= 128 } key ? key : "stream-" + messageId;
        await WriteEventsAsync(context, chat.ResumeAsync(RequestOf(context, id, data), context.RequestAborted), id, time.Provider)
            .ConfigureAwait(false);
    }

    private static async Task<IResult> CancelAsync(HttpContext context, IChatService chat)
    {
        var (id, data) = await ReadAsync(context).ConfigureAwait(false);
        return Results.Json(await chat.CancelAsync(RequestOf(context, id, data), context.RequestAborted).ConfigureAwait(false),
            AtlasJsonContext.Default.JsonElement);
    }

    /// <summary><c>GET /chat/conversations</c> lists; with <c>?q=</c> it searches (<c>limit</c>, <c>cursor</c> page it).</summary>
    private static ConversationRequest ListOrSearch(IQueryCollection query)
    {
        if (!query.TryGetValue("q", out var q))
        {
            return new ConversationRequest { Op = "list" };
        }

        int? limit = null;
        if (query.TryGetValue("limit", out var l))
        {
            limit = int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
        }

        return new ConversationRequest { Op = "search", Query = q.ToString(), Limit = limit, Cursor = query.TryGetValue("cursor", out var c) ? c.ToString() : null };
    }

    private static async Task<IResult> RenameAsync(HttpContext context, IChatService chat, string id)
    {
        var body = await JsonSerializer.DeserializeAsync(JsonBodies.Of(context.Request), AtlasJsonContext.Default.ConversationRequest, context.RequestAborted)
            .ConfigureAwait(false);
        return await ConversationAsync(context, chat, new ConversationRequest { Op = "rename", ConversationId = id, Title = body?.Title })
            .ConfigureAwait(false);
    }

    private static async Task<IResult> ConversationAsync(HttpContext context, IChatService chat, ConversationRequest operation)
    {
        var data = JsonSerializer.SerializeToElement(operation, AtlasJsonContext.Default.ConversationRequest);
        var result = await chat.ConversationAsync(RequestOf(context, "rest-" + operation.Op, data), context.RequestAborted).ConfigureAwait(false);
        return Results.Json(result, AtlasJsonContext.Default.JsonElement);
    }

    /// <summary>Writes a chat stream as server-sent events. The first element decides the status: an error before any
    /// event is a normal error response. Later events are <c>id: &lt;seq&gt;</c> + <c>data: &lt;chat_response frame&gt;</c>;
    /// a comment goes out after <see cref="KeepAliveInterval"/> of silence. The client going away ends only the stream.</summary>
    internal static async Task WriteEventsAsync(HttpContext context, IAsyncEnumerable<JsonElement> events, string requestId, TimeProvider time)
    {
        var aborted = context.RequestAborted;
        await using var enumerator = events.GetAsyncEnumerator(aborted);
        bool any;
        try
        {
            any = await enumerator.MoveNextAsync().ConfigureAwait(false);
        }
        catch (AtlasException e)
        {
            await ApiErrors.WriteAsync(context, e.Code, e.Message, e.RetryAfter).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }

        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache, no-store";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        using var writeLock = new SemaphoreSlim(1, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var lastWrite = time.GetTimestamp();

        async Task WriteAsync(string text)
        {
            await writeLock.WaitAsync(aborted).ConfigureAwait(false);
            try
            {
                await context.Response.WriteAsync(text, Encoding.UTF8, aborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(aborted).ConfigureAwait(false);
                Volatile.Write(ref lastWrite, time.GetTimestamp());
            }
            finally
            {
                writeLock.Release();
            }
        }

        async Task KeepAliveAsync()
        {
            try
            {
                while (true)
                {
                    await Task.Delay(KeepAliveInterval, time, stop.Token).ConfigureAwait(false);
                    if (time.GetElapsedTime(Volatile.Read(ref lastWrite)) >= KeepAliveInterval)
                    {
                        await WriteAsync(": keep-alive\n\n").ConfigureAwait(false);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // The stream ended or the client left.
            }
        }

        var keepAlive = KeepAliveAsync();
        try
        {
            while (any)
            {
                var element = enumerator.Current;
                var frame = new AtlasEnvelope { Type = MessageTypes.ChatResponse, Re = requestId, Data = element };
                var seq = element.TryGetProperty("seq", out var s) && s.TryGetInt64(out var n) ? n : 0;
                await WriteAsync(string.Create(CultureInfo.InvariantCulture,
                    $"id: {seq}\ndata: {JsonSerializer.Serialize(frame, AtlasJsonContext.Default.AtlasEnvelope)}\n\n")).ConfigureAwait(false);
                try
                {
                    any = await enumerator.MoveNextAsync().ConfigureAwait(false);
                }
                catch (AtlasException e)
                {
                    var error = new AtlasEnvelope { Type = MessageTypes.Error, Re = requestId, Error = new AtlasError { Code = e.Code, Message = e.Message } };
                    await WriteAsync("data: " + JsonSerializer.Serialize(error, AtlasJsonContext.Default.AtlasEnvelope) + "\n\n").ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            // The client went away; the generation goes on and can be resumed.
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await keepAlive.ConfigureAwait(false);
        }
    }

    private static long? LastEventId(HttpContext context) =>
        long.TryParse(context.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var seq) ? seq : null;

    private static ChatRequest RequestOf(HttpContext context, string id, JsonElement data)
    {
        var device = context.Session().Device;
        return new ChatRequest(device.Id, id, data, device.Permissions, context);
    }

    /// <summary><c>POST /media/process</c>: once per request id, like the socket's <c>media_process</c> (the same
    /// idempotency cache, REST keys apart from socket ids): the same id again gets the first answer, the same id with
    /// another body <c>duplicate_request</c>.</summary>
    private static async Task<IResult> MediaAsync(HttpContext context, IMediaService media, IdempotencyCache requests)
    {
        var (id, data) = await ReadAsync(context).ConfigureAwait(false);
        var device = context.Session().Device;
        if (MediaRequests.HasPath(data))
        {
            PipelineMediaService.RequireReadForPath(device); // before the cache, as on the socket
        }

        var reply = await requests.GetOrRunAsync(device.Id, "rest:" + id, "rest_media", Encoding.UTF8.GetBytes(data.GetRawText()),
            rerunnable: true, async () =>
            {
                try
                {
                    var result = await media.ProcessAsync(new MediaRequest(device.Id, id, data), new Progress<JsonElement>(),
                        context.RequestAborted).ConfigureAwait(false);
                    return new AtlasEnvelope { Type = MessageTypes.MediaResult, Data = result };
                }
                catch (AtlasException e) when (!MediaRequests.IsTransientRefusal(e.Code))
                {
                    return new AtlasEnvelope { Type = MessageTypes.Error, Error = new AtlasError { Code = e.Code, Message = e.Message } };
                }
            }).ConfigureAwait(false);
        return reply.Error is { } error
            ? ApiErrors.Result(error.Code, error.Message)
            : Results.Json(reply.Data!.Value, AtlasJsonContext.Default.JsonElement);
    }

    private static async Task<(string Id, JsonElement Data)> ReadAsync(HttpContext context)
    {
        JsonElement data;
        try
        {
            data = await JsonSerializer.DeserializeAsync(JsonBodies.Of(context.Request), AtlasJsonContext.Default.JsonElement, context.RequestAborted)
                .ConfigureAwait(false);
        }
        catch (JsonException)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "The body must be a JSON object.");
        }

        var id = context.Request.Headers["Idempotency-Key"].ToString();
        if (id.Length == 0 && data.ValueKind == JsonValueKind.Object && data.TryGetProperty("id", out var bodyId)
            && bodyId.ValueKind == JsonValueKind.String)
        {
            id = bodyId.GetString()!;
        }

        if (id.Length is 0 or > 128)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "Give the request an id (1 to 128 characters) in the Idempotency-Key header or the body's id.");
        }

        return (id, data);
    }
}
