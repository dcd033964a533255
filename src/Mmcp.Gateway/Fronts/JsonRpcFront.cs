using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Client;
using Mmcp.Client.Diagnostics;
using Mmcp.Gateway.Security;
using Mmcp.Gateway.Sessions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Shared.Json;

namespace Mmcp.Gateway.Fronts;

/// <summary>
/// The one front of the MCP endpoints: reads a POST's JSON-RPC message once, parses it once, and then
/// <list type="number">
/// <item>answers the JSON-RPC errors the spec names where the SDK would answer others: malformed JSON is -32700 Parse
/// error (the SDK says -32600); a <c>tools/call</c> without a string <c>name</c> or with <c>arguments</c> that are not
/// an object is -32602 Invalid params (the SDK says -32603), and so is a <c>logging/setLevel</c> whose level is not one
/// of MCP's (the SDK says -32603 "An error occurred."), and a <c>resources/read</c>, <c>resources/(un)subscribe</c>,
/// <c>prompts/get</c> or <c>completion/complete</c> whose params have a member of the wrong JSON type
/// (<see cref="RequestParamsCheck"/>, the SDK says -32603 too); a batch (a JSON array) is -32600 with a message saying
/// why: the gateway speaks 2025-06-18 and later, whose transport carries one message per POST ("Remove support for
/// JSON-RPC batching", 2025-06-18 changelog), and does not take batches from 2025-03-26 sessions either (see
/// docs/mmcp-gateway.md);</item>
/// <item>answers a 2025-era session's <c>tools/call</c> that needs no stream (no progress token) in the direct lane:
/// Streamable HTTP lets a server answer a request with one <c>application/json</c> body instead of an SSE stream, so
/// the call runs straight on the session's call path (<see cref="GatewaySession.Call"/>: the aggregated endpoint's,
/// the shared connection's, or a pass-through session's own upstream), with the arguments taken from the parsed
/// message, rather than through the SDK's per-session machinery (a second parse, a flushed SSE header, a hop to the
/// session's message loop, an SSE event and a chunked end). The <c>notifications/cancelled</c> of such a call are
/// handled here too;</item>
/// <item>leaves anything else, and anything unusual about a request, to the SDK with the body readable again; so does a
/// call when the SDK has not seen the session for a quarter of its idle timeout (the SDK's idle clock restarts then).</item>
/// </list>
/// </summary>
internal sealed partial class JsonRpcFront
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int InvalidParams = -32602;

    private const string ParseErrorMessage = "Parse error: the body is not valid JSON.";

    public const string BatchRefusal =
        "JSON-RPC batches are not accepted: send one message per POST. MCP 2025-06-18 removed batching (\"Remove support for JSON-RPC batching\"), and this gateway does not take batches from 2025-03-26 sessions either.";

    /// <summary>The log levels of MCP's logging (RFC 5424's severities), as <c>logging/setLevel</c> takes them.</summary>
    private static readonly string[] Levels = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

    private static readonly string LevelNames = string.Join(", ", Levels);

#pragma warning disable MCP9005 // logging/setLevel is deprecated in 2026-07-28; 2025-era sessions and stdio still use it.
    private const string LoggingSetLevel = RequestMethods.LoggingSetLevel;
#pragma warning restore MCP9005

    private static readonly JsonSerializerOptions Json = McpJsonUtilities.DefaultOptions;
    private readonly SessionDirectory _sessions;
    private readonly ILogger _logger;
    private readonly TimeSpan _sdkRefresh;
    private readonly OAuthResourceServer _oauth;

    public JsonRpcFront(SessionDirectory sessions, IOptions<MmcpGatewayOptions> options, ILogger<JsonRpcFront> logger, OAuthResourceServer oauth)
    {
        _sessions = sessions;
        _oauth = oauth;
        _logger = logger;
        _sdkRefresh = options.Value.SessionIdleTimeout / 4;
    }

    /// <summary>
    /// Answers a POST to an MCP endpoint that the spec calls an error or that belongs to the direct lane; otherwise
    /// leaves the request, its body readable again, to the SDK.
    /// </summary>
    /// <param name="context">The request (a POST whose content type is JSON or absent).</param>
    /// <param name="sessionId">Its <c>Mcp-Session-Id</c>, or empty.</param>
    /// <param name="caller">Who sent it.</param>
    /// <returns>Whether the request was answered, and what <see cref="SdkAsync"/> needs to know of one left to the SDK.</returns>
    public async Task<FrontOutcome> TryHandleAsync(HttpContext context, string sessionId, GatewayCaller caller)
    {
        if (LatencyProbe.Enabled)
        {
            LatencyProbe.Mark(LatencyMark.FrontStart);
        }

        var request = context.Request;
        var outcome = default(FrontOutcome);
        var body = await ReadBodyAsync(request.BodyReader, context.RequestAborted).ConfigureAwait(false);
        LoneSurrogates.Replace(body); // for every reader after: the direct lane, the SDK, an upstream
        if (LatencyProbe.Enabled)
        {
            LatencyProbe.Mark(LatencyMark.BodyRead);
        }

        if (body.Length > 0)
        {
            JsonDocument? document;
            try
            {
                document = JsonDocument.Parse(body);
            }
            catch (JsonException)
            {
                await RefuseAsync(context, StatusCodes.Status400BadRequest, Error(null, ParseError, ParseErrorMessage)).ConfigureAwait(false);
                return FrontOutcome.Answered;
            }

            // The direct lane's arguments are elements of the document: it lives until the call is answered.
            using (document)
            {
                if (await TryAnswerAsync(context, document.RootElement, sessionId, caller).ConfigureAwait(false))
                {
                    return FrontOutcome.Answered;
                }

                outcome = LeftToSdk(document.RootElement, sessionId);
            }
        }

        // The SDK says what it says about an empty body, and about everything the front leaves alone, on the thread
        // pool: only the direct lane keeps the socket event thread.
        request.Body = new MemoryStream(body, writable: false);
        await IoThread.LeaveAsync().ConfigureAwait(false);
        return outcome;
    }

    /// <summary>
    /// Runs the SDK's handler on a request the front left to it. A session's request that the SDK answers on its own
    /// POST's stream is noted, and a <c>notifications/cancelled</c> the SDK accepted for it ends that stream: the SDK
    /// cancels the request's handler and, as MCP says, sends no answer, but its stream of the request waits for an
    /// answer and would stay open until the session ends. The cancelled request's stream ends cleanly, without an
    /// answer (its 200 and SSE header are sent already); the direct lane's ends with 202 and no body.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="session">Its session when the gateway knows it, or null.</param>
    /// <param name="outcome">What <see cref="TryHandleAsync"/> found.</param>
    /// <param name="sdk">The SDK's handler.</param>
    /// <returns>A task that completes when the SDK's handler is done (or the cancelled request's stream ended).</returns>
    public static async Task SdkAsync(HttpContext context, GatewaySession? session, FrontOutcome outcome, RequestDelegate sdk)
    {
        if (session is null || (outcome.Request.Id is null && outcome.Cancelled.Id is null))
        {
            await sdk(context).ConfigureAwait(false);
            return;
        }

        if (outcome.Cancelled.Id is not null)
        {
            await sdk(context).ConfigureAwait(false);
            if (context.Response.StatusCode == StatusCodes.Status202Accepted && session.SdkStreams.TryGetValue(outcome.Cancelled, out var stream))
            {
                try
                {
                    await stream.CancelAsync().ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                    // The request ended meanwhile: nothing left to end.
                }
            }

            return;
        }

        var aborted = context.RequestAborted;
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        if (!session.SdkStreams.TryAdd(outcome.Request, ended))
        {
            await sdk(context).ConfigureAwait(false); // the same id is in flight already: the SDK says what it says about that
            return;
        }

        // The SDK holds the POST's response open until the request's answer is sent, or until RequestAborted.
        context.RequestAborted = ended.Token;
        try
        {
            await sdk(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            // Cancelled by the client: MCP sends no answer, and the response ends here.
        }
        finally
        {
            context.RequestAborted = aborted;
            session.SdkStreams.TryRemove(KeyValuePair.Create(outcome.Request, ended));
        }
    }

    /// <summary>What the SDK lane needs of a session's message: the id of a request, or the id a cancellation names.</summary>
    private static FrontOutcome LeftToSdk(JsonElement root, string sessionId)
    {
        if (sessionId.Length == 0 || root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String)
        {
            return default;
        }

        if (root.TryGetProperty("id", out var id))
        {
            return id.ValueKind == JsonValueKind.String || (id.ValueKind == JsonValueKind.Number && id.TryGetInt64(out _))
                ? new FrontOutcome(false, ToRequestId(id), default)
                : default;
        }

        return method.ValueEquals(NotificationMethods.CancelledNotification) && CancelledId(root) is { } cancelled
            ? new FrontOutcome(false, default, cancelled)
            : default;
    }

    /// <summary>The answer to a message that is not valid JSON: -32700 Parse error with a null id (for <c>mmcp stdio</c>).</summary>
    /// <returns>The JSON-RPC error response.</returns>
    public static byte[] ParseErrorAnswer() => Error(null, ParseError, ParseErrorMessage);

    /// <summary>The error answer to a parsed JSON-RPC message the spec calls an error, or null when it may go on (for the HTTP front and <c>mmcp stdio</c>).</summary>
    /// <param name="root">The message.</param>
    /// <param name="hasLoggingSetLevel">Whether <c>logging/setLevel</c> exists in the message's protocol era (2026-07-28 removed it: the SDK answers that).</param>
    /// <param name="status">The HTTP status for the answer.</param>
    /// <returns>The JSON-RPC error response, or null.</returns>
    internal static byte[]? Check(JsonElement root, bool hasLoggingSetLevel, out int status)
    {
        status = StatusCodes.Status400BadRequest;
        if (root.ValueKind == JsonValueKind.Array)
        {
            return Error(null, InvalidRequest, BatchRefusal);
        }

        if (IsRequest(root, RequestMethods.ToolsCall, out var id))
        {
            if (RequestParamsCheck.ToolsCallProblem(root.TryGetProperty("params", out var callParams) ? callParams : default) is { } problem)
            {
                status = StatusCodes.Status200OK;
                return Error(id, InvalidParams, problem);
            }

            return null; // nothing else to check in a call: its lane stays as short as it was
        }

        // The SDK reads these params into its types and answers a member of the wrong JSON type -32603 "An error occurred.".
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("method", out var method) && method.ValueKind == JsonValueKind.String
            && root.TryGetProperty("id", out id) && id.ValueKind is JsonValueKind.String or JsonValueKind.Number && RequestParamsCheck.Checks(method)
            && RequestParamsCheck.Problem(method.GetString()!, root.TryGetProperty("params", out var parameters) ? parameters : default) is { } wrongParams)
        {
            status = StatusCodes.Status200OK;
            return Error(id, InvalidParams, wrongParams);
        }

        // The SDK reads the level as its enum and answers a level it cannot read -32603 "An error occurred."; MCP's
        // logging spec says an invalid log level is -32602.
        if (hasLoggingSetLevel && IsRequest(root, LoggingSetLevel, out id) && InvalidLevel(root) is { } wrongLevel)
        {
            status = StatusCodes.Status200OK;
            return Error(id, InvalidParams, wrongLevel);
        }

        return null;
    }

    private async Task<bool> TryAnswerAsync(HttpContext context, JsonElement root, string sessionId, GatewayCaller caller)
    {
        if (Check(root, hasLoggingSetLevel: !IsPerRequestEra(context.Request), out var status) is { } refusal)
        {
            await RefuseAsync(context, status, refusal).ConfigureAwait(false);
            return true;
        }

        if (LatencyProbe.Enabled)
        {
            LatencyProbe.Mark(LatencyMark.Parsed);
        }

        if (_oauth.Enabled && caller.Token?.Id.StartsWith("oauth:", StringComparison.Ordinal) == true
            && IsRequest(root, RequestMethods.ToolsCall, out var stepUpId) && !caller.HasScope(GatewayScopes.ToolsCall))
        {
            // MCP step-up (RFC 6750 §3.1): an OAuth token without the scope gets 403 insufficient_scope with a
            // challenge naming it, so the client can ask the authorization server for it.
            const string Lacks = "The token lacks the 'tools:call' scope.";
            context.Response.Headers.WWWAuthenticate = _oauth.Challenge(context.Request, "insufficient_scope", Lacks, GatewayScopes.ToolsCall);
            await RefuseAsync(context, StatusCodes.Status403Forbidden, Error(stepUpId, InvalidRequest, Lacks)).ConfigureAwait(false);
            return true;
        }

        if (sessionId.Length == 0 || root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        if (method.ValueEquals(RequestMethods.ToolsCall))
        {
            if (!caller.HasScope(GatewayScopes.ToolsCall)
                || !IsRequest(root, RequestMethods.ToolsCall, out var rawId)
                || !IsVersion2(root)
                || (rawId.ValueKind == JsonValueKind.Number && !rawId.TryGetInt64(out _))
                || DirectSession(context.Request, sessionId, caller) is not { } session
                || ParamsOf(root) is not { } parameters)
            {
                return false;
            }

            var id = ToRequestId(rawId);
            var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            if (!session.DirectCalls.TryAdd(id, cancel))
            {
                cancel.Dispose();
                return false; // the same id is in flight already: the SDK says what it says about that
            }

            try
            {
                if (LatencyProbe.Enabled)
                {
                    LatencyProbe.Mark(LatencyMark.Dispatched);
                }

                await CallAsync(context, session.Call!, sessionId, caller, id, parameters, cancel.Token).ConfigureAwait(false);
            }
            finally
            {
                session.DirectCalls.TryRemove(KeyValuePair.Create(id, cancel));
                cancel.Dispose();
            }

            return true;
        }

        if (method.ValueEquals(NotificationMethods.CancelledNotification)
            && !root.TryGetProperty("id", out _)
            && IsVersion2(root)
            && CancelledId(root) is { } cancelled
            && DirectSession(context.Request, sessionId, caller) is { } owner
            && owner.DirectCalls.TryGetValue(cancelled, out var running))
        {
            try
            {
                await running.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The call ended meanwhile: nothing left to cancel.
            }

            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return true;
        }

        return false;
    }

    /// <summary>The session when a request of it may take the direct lane: known, with a call path, of this caller, seen by the SDK lately, and a plain 2025-era POST.</summary>
    private GatewaySession? DirectSession(HttpRequest request, string sessionId, GatewayCaller caller) =>
        _sessions.TryGet(sessionId, out var session)
        && session.Call is not null
        && session.Owner == caller.Token?.Id
        && _sessions.SdkSeenWithin(session, _sdkRefresh)
        && AcceptsJsonAndEvents(request.Headers.Accept)
        && IsSessionVersion(request.Headers["MCP-Protocol-Version"].ToString())
            ? session
            : null;

    private async Task CallAsync(HttpContext context, DirectCall direct, string sessionId, GatewayCaller caller, RequestId id, CallToolRequestParams parameters, CancellationToken cancellationToken)
    {
        var answer = new ArrayBufferWriter<byte>(512);
        try
        {
            var result = await direct(caller, parameters, cancellationToken).ConfigureAwait(false);
            if (LatencyProbe.Enabled)
            {
                LatencyProbe.Mark(LatencyMark.CallReturned);
            }

            WriteResponse(answer, id, result);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled by the client (notifications/cancelled, or it went away): MCP sends no answer to a cancelled request.
            if (!context.RequestAborted.IsCancellationRequested)
            {
                context.Response.StatusCode = StatusCodes.Status202Accepted;
            }

            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The error the SDK's own handler dispatch would send for the same exception.
            if (ex is not McpException)
            {
                Log.CallFailed(_logger, parameters.Name, ex);
            }

            answer.Write(Error(id, ex));
        }

        if (LatencyProbe.Enabled)
        {
            LatencyProbe.Mark(LatencyMark.Serialized);
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = answer.WrittenCount;
        response.Headers["Mcp-Session-Id"] = sessionId;
        await response.Body.WriteAsync(answer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        if (LatencyProbe.Enabled)
        {
            LatencyProbe.Mark(LatencyMark.Written);
        }
    }

    private static async Task RefuseAsync(HttpContext context, int status, byte[] refusal)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(refusal, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Whether the message is a request for <paramref name="name"/> with a string or number id.</summary>
    private static bool IsRequest(JsonElement root, string name, out JsonElement id)
    {
        id = default;
        return root.ValueKind == JsonValueKind.Object
            && root.TryGetProperty("method", out var method) && method.ValueKind == JsonValueKind.String && method.ValueEquals(name)
            && root.TryGetProperty("id", out id) && id.ValueKind is JsonValueKind.String or JsonValueKind.Number;
    }

    /// <summary>Whether the message says <c>"jsonrpc": "2.0"</c>, as the SDK requires of what it reads.</summary>
    private static bool IsVersion2(JsonElement root) => root.TryGetProperty("jsonrpc", out var version) && version.ValueKind == JsonValueKind.String && version.ValueEquals("2.0");

    /// <summary>What is wrong with a <c>logging/setLevel</c>'s params, or null when its level is one of MCP's.</summary>
    private static string? InvalidLevel(JsonElement request)
    {
        if (!request.TryGetProperty("params", out var parameters) || parameters.ValueKind != JsonValueKind.Object
            || !parameters.TryGetProperty("level", out var level))
        {
            return $"Invalid params: logging/setLevel needs 'level', one of {LevelNames}.";
        }

        if (level.ValueKind != JsonValueKind.String)
        {
            return $"Invalid params: 'level' must be one of {LevelNames}, not {level.ValueKind.ToString().ToLowerInvariant()}.";
        }

        foreach (var name in Levels)
        {
            if (level.ValueEquals(name))
            {
                return null;
            }
        }

        return $"Invalid params: '{level.GetString()}' is not a log level; 'level' must be one of {LevelNames}.";
    }

    /// <summary>Whether the request is of the 2026-07-28 revision or later (by its <c>MCP-Protocol-Version</c>), which has no sessions and no <c>logging/setLevel</c>.</summary>
    private static bool IsPerRequestEra(HttpRequest request) =>
        string.CompareOrdinal(request.Headers["MCP-Protocol-Version"].ToString(), Client.ProtocolVersions.Latest) >= 0;

    /// <summary>
    /// The call's parameters when the direct lane can serve it: a named tool, no progress token, nothing of the 2026
    /// revision's multi-round requests. The common call (only <c>name</c> and <c>arguments</c>) is read straight from
    /// the parsed message; anything else through the SDK's own type, as the SDK would read it.
    /// </summary>
    private static CallToolRequestParams? ParamsOf(JsonElement request)
    {
        var parameters = request.GetProperty("params"); // RequestParamsCheck.ToolsCallProblem checked it is an object with a name
        string? name = null;
        Dictionary<string, JsonElement>? arguments = null;
        foreach (var property in parameters.EnumerateObject())
        {
            if (property.NameEquals("name"))
            {
                name = property.Value.GetString();
            }
            else if (property.NameEquals("arguments"))
            {
                if (property.Value.ValueKind == JsonValueKind.Object)
                {
                    arguments = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                    foreach (var argument in property.Value.EnumerateObject())
                    {
                        arguments[argument.Name] = argument.Value;
                    }
                }
            }
            else
            {
                return FullParamsOf(parameters);
            }
        }

        return new CallToolRequestParams { Name = name!, Arguments = arguments };
    }

    private static CallToolRequestParams? FullParamsOf(JsonElement parameters)
    {
        try
        {
            return parameters.Deserialize(McpJsonUtilities.GetTypeInfo<CallToolRequestParams>(Json)) is { Name: { Length: > 0 }, ProgressToken: null, InputResponses: null, RequestState: null } full
                ? full
                : null;
        }
        catch (JsonException)
        {
            return null; // the SDK answers what it cannot read
        }
    }

    private static RequestId? CancelledId(JsonElement notification)
    {
        if (!notification.TryGetProperty("params", out var parameters) || parameters.ValueKind != JsonValueKind.Object
            || !parameters.TryGetProperty("requestId", out var id) || id.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
        {
            return null;
        }

        return id.ValueKind == JsonValueKind.Number && !id.TryGetInt64(out _) ? null : ToRequestId(id);
    }

    /// <summary>The id as the SDK reads it: a string, or an integer (the callers checked it is one).</summary>
    private static RequestId ToRequestId(JsonElement id) =>
        id.ValueKind == JsonValueKind.String ? new RequestId(id.GetString()!) : new RequestId(id.GetInt64());

    private static bool AcceptsJsonAndEvents(Microsoft.Extensions.Primitives.StringValues accept)
    {
        var json = false;
        var events = false;
        foreach (var value in accept)
        {
            json |= value?.Contains("application/json", StringComparison.OrdinalIgnoreCase) == true;
            events |= value?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
        }

        return json && events;
    }

    private static bool IsSessionVersion(string version) => version.Length == 0 || (Client.ProtocolVersions.IsKnown(version) && version != Client.ProtocolVersions.Latest);

    private static async Task<byte[]> ReadBodyAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Kestrel enforces the body limit the guard set (413 through the guard).
            var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (read.IsCompleted)
            {
                var body = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return body;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private static void WriteResponse(IBufferWriter<byte> buffer, RequestId id, CallToolResult result)
    {
        using var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartObject();
        writer.WriteString("jsonrpc", "2.0");
        writer.WritePropertyName("id");
        JsonSerializer.Serialize(writer, id, McpJsonUtilities.GetTypeInfo<RequestId>(Json));
        writer.WritePropertyName("result");
        if (ResultJson.TryGet(result, out var own))
        {
            writer.WriteRawValue(own.Span, skipInputValidation: true); // as the server wrote it (ResultJson); read once already, so valid
        }
        else
        {
            JsonSerializer.Serialize(writer, result, McpJsonUtilities.GetTypeInfo<CallToolResult>(Json));
        }
        writer.WriteEndObject();
    }

    private static byte[] Error(RequestId id, Exception ex)
    {
        var detail = ex switch
        {
            McpProtocolException protocol => new JsonRpcErrorDetail { Code = (int)protocol.ErrorCode, Message = protocol.Message, Data = DataOf(protocol) },
            McpException mcp => new JsonRpcErrorDetail { Code = (int)McpErrorCode.InternalError, Message = mcp.Message },
            _ => new JsonRpcErrorDetail { Code = (int)McpErrorCode.InternalError, Message = "An error occurred." },
        };
        return JsonSerializer.SerializeToUtf8Bytes<JsonRpcMessage>(new JsonRpcError { Id = id, Error = detail }, McpJsonUtilities.GetTypeInfo<JsonRpcMessage>(Json));
    }

    /// <summary>The exception's string-keyed data as the error's <c>data</c> (server id, hub code), like the SDK does.</summary>
    private static Dictionary<string, JsonElement>? DataOf(Exception ex)
    {
        Dictionary<string, JsonElement>? data = null;
        foreach (System.Collections.DictionaryEntry entry in ex.Data)
        {
            if (entry.Key is string key && entry.Value is string or bool or int or long or double)
            {
                data ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                data[key] = JsonSerializer.SerializeToElement(entry.Value, Json.GetTypeInfo(entry.Value.GetType()));
            }
        }

        return data;
    }

    private static byte[] Error(JsonElement? id, int code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WritePropertyName("id");
            if (id is { } value)
            {
                value.WriteTo(writer);
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WriteStartObject("error");
            writer.WriteNumber("code", code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static partial class Log
    {
        [LoggerMessage(4401, LogLevel.Error, "tools/call of {Tool} failed unexpectedly")]
        public static partial void CallFailed(ILogger logger, string tool, Exception exception);
    }
}

/// <summary>What <see cref="JsonRpcFront.TryHandleAsync"/> did with a POST: answered it, or left it to the SDK.</summary>
/// <param name="IsAnswered">Whether the front answered it.</param>
/// <param name="Request">Left to the SDK: the id of a session's request, which the SDK answers on the POST's own stream.</param>
/// <param name="Cancelled">Left to the SDK: the id a session's <c>notifications/cancelled</c> names.</param>
internal readonly record struct FrontOutcome(bool IsAnswered, RequestId Request, RequestId Cancelled)
{
    public static FrontOutcome Answered => new(true, default, default);
}
