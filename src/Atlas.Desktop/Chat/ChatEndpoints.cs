using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Media;

namespace Atlas.Desktop.Chat;

/// <summary><c>POST /chat/message</c> (server-sent events of <c>chat_response</c> frames) and <c>POST /media/process</c>.
/// The request id comes from the <c>Idempotency-Key</c> header or the body's <c>id</c>.</summary>
internal static class ChatEndpoints
{
    public static void MapChatAndMedia(this IEndpointRouteBuilder app)
    {
        app.MapPost("/chat/message", ChatAsync).RequireAuthorization().RequirePermission(Permissions.Chat).WithAtlasErrors();
        app.MapPost("/media/process", MediaAsync).RequireAuthorization().RequirePermission(Permissions.MediaProcess).WithAtlasErrors();
    }

    private static async Task ChatAsync(HttpContext context, IChatService chat)
    {
        var (id, data) = await ReadAsync(context).ConfigureAwait(false);
        var request = new ChatRequest(context.Session().Device.Id, id, data, context.Session().Device.Permissions);
        await using var events = chat.SendAsync(request, context.RequestAborted).GetAsyncEnumerator(context.RequestAborted);
        bool any;
        try
        {
            // The first element decides the status code: an error before any output is a normal error response.
            any = await events.MoveNextAsync().ConfigureAwait(false);
        }
        catch (AtlasException e)
        {
            await ApiErrors.WriteAsync(context, e.Code, e.Message).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        while (any)
        {
            var frame = new AtlasEnvelope { Type = MessageTypes.ChatResponse, Re = id, Data = events.Current };
            await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(frame, AtlasJsonContext.Default.AtlasEnvelope) + "\n\n",
                context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            try
            {
                any = await events.MoveNextAsync().ConfigureAwait(false);
            }
            catch (AtlasException e)
            {
                var error = new AtlasEnvelope { Type = MessageTypes.Error, Re = id, Error = new AtlasError { Code = e.Code, Message = e.Message } };
                await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(error, AtlasJsonContext.Default.AtlasEnvelope) + "\n\n",
                    context.RequestAborted).ConfigureAwait(false);
                return;
            }
        }
    }

    private static async Task<IResult> MediaAsync(HttpContext context, IMediaService media)
    {
        var (id, data) = await ReadAsync(context).ConfigureAwait(false);
        var result = await media.ProcessAsync(new MediaRequest(context.Session().Device.Id, id, data), new Progress<JsonElement>(),
            context.RequestAborted).ConfigureAwait(false);
        return Results.Json(result, AtlasJsonContext.Default.JsonElement);
    }

    private static async Task<(string Id, JsonElement Data)> ReadAsync(HttpContext context)
    {
        JsonElement data;
        try
        {
            data = await JsonSerializer.DeserializeAsync(context.Request.Body, AtlasJsonContext.Default.JsonElement, context.RequestAborted)
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
