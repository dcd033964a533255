using System.Diagnostics;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Chat;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Files;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Media;
using Atlas.Desktop.Status;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Realtime;

/// <summary>Dispatches authenticated frames to the features. The device always comes from the connection's session;
/// every request must carry an id, every answer references it, and every failure becomes an <c>error</c> frame with a
/// stable code.</summary>
internal sealed class MessageRouter
{
    private readonly DeviceFileSystem _files;
    private readonly IChatService _chat;
    private readonly IMediaService _media;
    private readonly SessionService _sessions;
    private readonly StatusService _status;
    private readonly IdempotencyCache _idempotency;
    private readonly ILogger<MessageRouter> _logger;
    private readonly AtlasTime _time;
    private readonly RealtimeOptions _options;

    public MessageRouter(DeviceFileSystem files, IChatService chat, IMediaService media, SessionService sessions, StatusService status,
        IdempotencyCache idempotency, AtlasTime time, IOptions<AtlasOptions> options, ILogger<MessageRouter> logger)
    {
        _time = time;
        _options = options.Value.WebSocket;
        _files = files;
        _chat = chat;
        _media = media;
        _sessions = sessions;
        _status = status;
        _idempotency = idempotency;
        _logger = logger;
    }

    public async Task HandleAsync(DeviceConnection connection, AtlasEnvelope envelope)
    {
        var id = envelope.Id;
        var activity = envelope.Type is MessageTypes.Ping or MessageTypes.Pong
            ? null
            : AtlasTelemetry.StartFrame(MessageTypes.All.Contains(envelope.Type, StringComparer.Ordinal) ? envelope.Type : "unknown");
        var detached = false;
        try
        {
            switch (envelope.Type)
            {
                case MessageTypes.Ping:
                    connection.Send(new AtlasEnvelope { Type = MessageTypes.Pong, Re = id });
                    return;
                case MessageTypes.Pong:
                    return;
                case MessageTypes.Auth:
                    await ReauthenticateAsync(connection, envelope).ConfigureAwait(false);
                    return;
                case MessageTypes.FileRequest:
                    RequireId(id);
                    var op = FileOp(envelope);
                    if (FilePermission(op) is { } filePermission)
                    {
                        Require(connection, filePermission); // before the cache: a replay is refused like a fresh request
                    }

                    var fileReply = await _idempotency.GetOrRunAsync(connection.DeviceId, id!, envelope.Type, DataBytes(envelope),
                        rerunnable: op is "list" or "stat" or "read", () => HandleFileAsync(connection, envelope)).ConfigureAwait(false);
                    connection.Send(Readdress(fileReply, id!));
                    return;
                case MessageTypes.MediaProcess:
                    RequireId(id);
                    Require(connection, Permissions.MediaProcess);
                    if (HasPath(envelope))
                    {
                        // Before the cache, as for file requests: a replay of an earlier answer about a file of the
                        // device's space is refused like a fresh request once files.read is gone.
                        Require(connection, Permissions.FilesRead);
                    }

                    detached = true;
                    _ = RunDetachedAsync(connection, envelope, activity, async () =>
                    {
                        // Re-runnable: a job's result is cached by content hash and the files it writes are the same
                        // bytes again, so a replay whose answer was too large to keep runs again instead of being refused.
                        var reply = await _idempotency.GetOrRunAsync(connection.DeviceId, id!, envelope.Type, DataBytes(envelope),
                            rerunnable: true, () => HandleMediaAsync(connection, envelope)).ConfigureAwait(false);
                        connection.Send(Readdress(reply, id!));
                    });
                    return;
                case MessageTypes.ChatMessage or MessageTypes.Resume:
                    RequireId(id);
                    Require(connection, Permissions.Chat);
                    detached = true;
                    _ = RunDetachedAsync(connection, envelope, activity, () => StreamChatAsync(connection, envelope));
                    return;
                case MessageTypes.ConversationRequest:
                    RequireId(id);
                    Require(connection, Permissions.Chat);
                    var conversation = await _chat.ConversationAsync(ChatRequestOf(connection, envelope), connection.Closing).ConfigureAwait(false);
                    connection.Send(new AtlasEnvelope { Type = MessageTypes.ConversationResponse, Re = id, Data = conversation });
                    return;
                case MessageTypes.ChatCancel:
                    RequireId(id);
                    Require(connection, Permissions.Chat);
                    var ack = await _chat.CancelAsync(ChatRequestOf(connection, envelope), connection.Closing).ConfigureAwait(false);
                    connection.Send(new AtlasEnvelope { Type = MessageTypes.ChatResponse, Re = id, Data = ack });
                    return;
                case MessageTypes.StatusUpdate when envelope.Data is null:
                    // A client may ask for the current state with an empty status_update.
                    connection.Send(new AtlasEnvelope
                    {
                        Type = MessageTypes.StatusUpdate,
                        Re = id,
                        Data = await _status.BuildAsync(connection.Device, connection.Closing).ConfigureAwait(false),
                    });
                    return;
                default:
                    var known = MessageTypes.All.Contains(envelope.Type, StringComparer.Ordinal);
                    connection.SendError(id, known ? ErrorCodes.BadRequest : ErrorCodes.UnknownType, known
                        ? $"'{envelope.Type}' is sent by the desktop, not by devices."
                        : $"Unknown message type '{Printable(envelope.Type)}'. Supported: {string.Join(", ", MessageTypes.All)}.");
                    return;
            }
        }
        catch (AtlasException e)
        {
            AtlasTelemetry.Fail(activity, e.Code);
            connection.SendError(id, e.Code, e.Message, e.RetryAfter);
        }
        catch (JsonException)
        {
            AtlasTelemetry.Fail(activity, ErrorCodes.BadRequest);
            connection.SendError(id, ErrorCodes.BadRequest, $"The data of this '{envelope.Type}' frame has missing or wrongly typed fields.");
        }
        catch (OperationCanceledException) when (connection.Closing.IsCancellationRequested)
        {
            // The socket is closing.
        }
        catch (Exception e)
        {
            // Boundary of one request: log, answer, keep the socket. Left to the receive loop, the fault closed the
            // socket without an answer, and a client that resends unanswered requests after reconnecting met it again.
            Log.RequestFailed(_logger, e, envelope.Type, connection.DeviceId);
            AtlasTelemetry.Fail(activity, ErrorCodes.InternalError);
            connection.SendError(id, ErrorCodes.InternalError, "The desktop failed to handle this request; nothing was changed.");
        }
        finally
        {
            if (!detached)
            {
                // A detached request's span ends with its work (RunDetachedAsync).
                activity?.Dispose();
            }
        }
    }

    private async Task ReauthenticateAsync(DeviceConnection connection, AtlasEnvelope envelope)
    {
        var token = envelope.Data?.Deserialize(AtlasJsonContext.Default.AuthFrame)?.Token;
        var session = await _sessions.ValidateAsync(token, connection.Closing).ConfigureAwait(false);
        if (session.Device.Id != connection.DeviceId)
        {
            throw new AtlasException(ErrorCodes.Unauthorized, "That session belongs to another device; open a new socket for it.");
        }

        connection.Device = session.Device;
        connection.SessionExpiresAt = session.ExpiresAt;
        connection.Send(WebSocketEndpoint.AuthSuccess(session.Device, session.ExpiresAt, envelope.Id, _time.Provider, _options));
    }

    private async Task<AtlasEnvelope> HandleFileAsync(DeviceConnection connection, AtlasEnvelope envelope)
    {
        try
        {
            var request = envelope.Data?.Deserialize(AtlasJsonContext.Default.FileRequest)
                ?? throw new AtlasException(ErrorCodes.BadRequest, "file_request needs data with op and path.");
            var device = connection.Device;
            var cancellationToken = connection.Closing;
            JsonElement data;
            switch (request.Op)
            {
                case "list":
                    Require(connection, Permissions.FilesRead);
                    data = Element(new FileListing(request.Path, _files.List(device.Id, request.Path)));
                    break;
                case "stat":
                    Require(connection, Permissions.FilesRead);
                    data = JsonSerializer.SerializeToElement(_files.Stat(device.Id, request.Path), AtlasJsonContext.Default.FileEntry);
                    break;
                case "read":
                    Require(connection, Permissions.FilesRead);
                    var (content, size) = await _files.ReadRangeAsync(device.Id, request.Path, request.Offset ?? 0, request.Length,
                        cancellationToken).ConfigureAwait(false);
                    data = Element(new FileChunk(request.Path, request.Offset ?? 0, size, Convert.ToBase64String(content)));
                    break;
                case "write":
                    Require(connection, Permissions.FilesWrite);
                    byte[] bytes;
                    if (request.Content is null)
                    {
                        // Never read as empty content: that would replace the file with 0 bytes.
                        throw new AtlasException(ErrorCodes.BadRequest, "'content' is required for write: the file's bytes in base64 (\"\" for an empty file).");
                    }

                    try
                    {
                        bytes = Convert.FromBase64String(request.Content);
                    }
                    catch (FormatException)
                    {
                        throw new AtlasException(ErrorCodes.BadRequest, "content must be base64.");
                    }

                    using (var stream = new MemoryStream(bytes, writable: false))
                    {
                        var written = await _files.WriteAsync(device.Id, device.QuotaBytes, request.Path, stream, request.Overwrite ?? false,
                            cancellationToken).ConfigureAwait(false);
                        data = JsonSerializer.SerializeToElement(written, AtlasJsonContext.Default.FileEntry);
                    }

                    break;
                case "mkdir":
                    Require(connection, Permissions.FilesWrite);
                    data = JsonSerializer.SerializeToElement(await _files.MkdirAsync(device.Id, request.Path, cancellationToken)
                        .ConfigureAwait(false), AtlasJsonContext.Default.FileEntry);
                    break;
                case "move":
                    Require(connection, Permissions.FilesWrite);
                    data = JsonSerializer.SerializeToElement(await _files.MoveAsync(device.Id, request.Path, request.To,
                        request.Overwrite ?? false, cancellationToken).ConfigureAwait(false), AtlasJsonContext.Default.FileEntry);
                    break;
                case "delete":
                    Require(connection, Permissions.FilesWrite);
                    await _files.DeleteAsync(device.Id, request.Path, request.Recursive ?? false, cancellationToken).ConfigureAwait(false);
                    data = Element(new FileDeleted(request.Path, true));
                    break;
                default:
                    throw new AtlasException(ErrorCodes.BadRequest,
                        $"Unknown file op '{Printable(request.Op)}'; use list, stat, read, write, mkdir, move or delete.");
            }

            return new AtlasEnvelope { Type = MessageTypes.FileResponse, Data = data };
        }
        catch (AtlasException e)
        {
            return ErrorEnvelope(e.Code, e.Message);
        }
        catch (JsonException e)
        {
            return ErrorEnvelope(ErrorCodes.BadRequest, e.Path is { Length: > 1 } path
                ? $"file_request data has a wrongly typed field: the value at {path} is not what this op takes."
                : "file_request data has missing or wrongly typed fields.");
        }
        catch (IOException e)
        {
            return ErrorEnvelope(ErrorCodes.Conflict, $"The file operation failed: {e.Message}");
        }
    }

    private async Task<AtlasEnvelope> HandleMediaAsync(DeviceConnection connection, AtlasEnvelope envelope)
    {
        try
        {
            var progress = new OrderedProgress<JsonElement>(p =>
                connection.Send(new AtlasEnvelope { Type = MessageTypes.MediaResult, Re = envelope.Id, Data = p }));
            try
            {
                var result = await _media.ProcessAsync(new MediaRequest(connection.DeviceId, envelope.Id!, envelope.Data ?? default),
                    progress, connection.Closing).ConfigureAwait(false);
                return new AtlasEnvelope { Type = MessageTypes.MediaResult, Data = result };
            }
            finally
            {
                progress.Close(); // progress frames never follow the answer or the error
            }
        }
        catch (AtlasException e) when (!MediaRequests.IsTransientRefusal(e.Code))
        {
            return ErrorEnvelope(e.Code, e.Message);
        }
    }

    private async Task StreamChatAsync(DeviceConnection connection, AtlasEnvelope envelope)
    {
        var request = ChatRequestOf(connection, envelope);
        var stream = envelope.Type == MessageTypes.Resume
            ? _chat.ResumeAsync(request, connection.Closing)
            : _chat.SendAsync(request, connection.Closing);
        await foreach (var delta in stream.ConfigureAwait(false))
        {
            connection.Send(new AtlasEnvelope { Type = MessageTypes.ChatResponse, Re = envelope.Id, Data = delta });
        }
    }

    private async Task RunDetachedAsync(DeviceConnection connection, AtlasEnvelope envelope, Activity? activity, Func<Task> work)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await work().ConfigureAwait(false);
        }
        catch (AtlasException e)
        {
            AtlasTelemetry.Fail(activity, e.Code);
            connection.SendError(envelope.Id, e.Code, e.Message, e.RetryAfter);
        }
        catch (OperationCanceledException) when (connection.Closing.IsCancellationRequested)
        {
            // The socket closed; the feature decides what happens to its work.
        }
        catch (Exception e)
        {
            // Loop boundary: log, answer, keep the socket.
            Log.RequestFailed(_logger, e, envelope.Type, connection.DeviceId);
            AtlasTelemetry.Fail(activity, ErrorCodes.InternalError);
            connection.SendError(envelope.Id, ErrorCodes.InternalError, "The desktop failed to handle this request; nothing was changed.");
        }
        finally
        {
            AtlasTelemetry.RequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("atlas.message.type", envelope.Type));
            activity?.Dispose();
        }
    }

    private static ChatRequest ChatRequestOf(DeviceConnection connection, AtlasEnvelope envelope) =>
        new(connection.DeviceId, envelope.Id!, envelope.Data ?? default, connection.Device.Permissions, connection);

    private static bool HasPath(AtlasEnvelope envelope) => MediaRequests.HasPath(envelope.Data);

    private static void RequireId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 128)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "Requests need an id of 1 to 128 characters; it is the idempotency key.");
        }
    }

    /// <summary>The op of a file request, or null when the data is malformed (the handler answers that).</summary>
    private static string? FileOp(AtlasEnvelope envelope)
    {
        try
        {
            return envelope.Data?.Deserialize(AtlasJsonContext.Default.FileRequest)?.Op;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? FilePermission(string? op) => op switch
    {
        "list" or "stat" or "read" => Permissions.FilesRead,
        "write" or "mkdir" or "move" or "delete" => Permissions.FilesWrite,
        _ => null,
    };

    private static void Require(DeviceConnection connection, string permission)
    {
        if (!connection.HasPermission(permission))
        {
            throw new AtlasException(ErrorCodes.Forbidden, $"This device does not have the '{permission}' permission; grant it on the desktop.");
        }
    }

    private static AtlasEnvelope Readdress(AtlasEnvelope reply, string id) =>
        new() { Type = reply.Type, Re = id, Data = reply.Data, Error = reply.Error };

    private static AtlasEnvelope ErrorEnvelope(string code, string message) =>
        new() { Type = MessageTypes.Error, Error = new AtlasError { Code = code, Message = message } };

    private static byte[] DataBytes(AtlasEnvelope envelope) =>
        envelope.Data is { } data ? JsonSerializer.SerializeToUtf8Bytes(data, AtlasJsonContext.Default.JsonElement) : [];

    private static JsonElement Element<T>(T value) where T : notnull =>
        JsonSerializer.SerializeToElement(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)DesktopJsonContext.Default.GetTypeInfo(typeof(T))!);

    private static string Printable(string? value) =>
        value is null ? "" : new string(value.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}

internal sealed record FileListing(string Path, IReadOnlyList<FileEntry> Entries);

internal sealed record FileChunk(string Path, long Offset, long Size, string Content);

internal sealed record FileDeleted(string Path, bool Deleted);
