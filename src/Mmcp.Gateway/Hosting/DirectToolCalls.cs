using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Gateway.Security;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Hosting;

/// <summary>
/// The direct lane of the MCP endpoints for 2025-era sessions. Streamable HTTP lets a server answer a request with one
/// <c>application/json</c> body instead of an SSE stream, so a <c>tools/call</c> that needs no stream (no progress
/// token) is answered here, straight from the session's call path (<see cref="GatewaySession.Call"/>: the aggregated
/// endpoint's, the shared connection's, or a pass-through session's own upstream), rather than through the SDK's
/// per-session machinery (a flushed SSE header, a hop to the session's message loop, an SSE event and a chunked end:
/// about 0.6 ms a call on a 2-core machine). The <c>notifications/cancelled</c> of such a call are handled here too.
/// Anything else, and anything unusual about a request, goes to the SDK with its body intact, and so does a call
/// when the SDK has not seen the session for a quarter of its idle timeout (the SDK's idle clock restarts then).
/// </summary>
internal sealed partial class DirectToolCalls
{
    private static readonly JsonSerializerOptions Json = McpJsonUtilities.DefaultOptions;
    private readonly SessionDirectory _sessions;
    private readonly ILogger _logger;
    private readonly TimeSpan _sdkRefresh;

    public DirectToolCalls(SessionDirectory sessions, IOptions<MmcpGatewayOptions> options, ILogger<DirectToolCalls> logger)
    {
        _sessions = sessions;
        _logger = logger;
        _sdkRefresh = options.Value.SessionIdleTimeout / 4;
    }

    /// <summary>
    /// Answers a POST of an aggregated session when it belongs to the direct lane; otherwise leaves the request, its
    /// body readable again, to the SDK.
    /// </summary>
    /// <returns>Whether the request was answered.</returns>
    public async Task<bool> TryHandleAsync(HttpContext context, string sessionId, GatewayCaller caller)
    {
        var request = context.Request;
        if (!_sessions.TryGet(sessionId, out var session)
            || session.Call is not { } direct
            || session.Owner != caller.Token?.Id
            || !_sessions.SdkSeenWithin(session, _sdkRefresh)
            || !AcceptsJsonAndEvents(request.Headers.Accept)
            || (request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            || !IsSessionVersion(request.Headers["MCP-Protocol-Version"].ToString()))
        {
            return false;
        }

        var body = await ReadBodyAsync(request.BodyReader, context.RequestAborted).ConfigureAwait(false);
        switch (Parse(body))
        {
            case JsonRpcRequest { Method: RequestMethods.ToolsCall } call when caller.HasScope(GatewayScopes.ToolsCall) && ParamsOf(call) is { } parameters:
                var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                if (session.DirectCalls.TryAdd(call.Id, cancel))
                {
                    try
                    {
                        await CallAsync(context, direct, sessionId, caller, call.Id, parameters, cancel.Token).ConfigureAwait(false);
                    }
                    finally
                    {
                        session.DirectCalls.TryRemove(KeyValuePair.Create(call.Id, cancel));
                        cancel.Dispose();
                    }

                    return true;
                }

                cancel.Dispose();
                break; // the same id is in flight already: the SDK says what it says about that

            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } notification when CancelledId(notification) is { } id && session.DirectCalls.TryGetValue(id, out var running):
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

        request.Body = new MemoryStream(body, writable: false);
        return false;
    }

    private async Task CallAsync(HttpContext context, DirectCall direct, string sessionId, GatewayCaller caller, RequestId id, CallToolRequestParams parameters, CancellationToken cancellationToken)
    {
        byte[] answer;
        try
        {
            var result = await direct(caller, parameters, cancellationToken).ConfigureAwait(false);
            answer = Response(id, result);
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

            answer = Error(id, ex);
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = answer.Length;
        response.Headers["Mcp-Session-Id"] = sessionId;
        await response.Body.WriteAsync(answer, context.RequestAborted).ConfigureAwait(false);
    }

    private static byte[] Response(RequestId id, CallToolResult result)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WritePropertyName("id");
            JsonSerializer.Serialize(writer, id, McpJsonUtilities.GetTypeInfo<RequestId>(Json));
            writer.WritePropertyName("result");
            JsonSerializer.Serialize(writer, result, McpJsonUtilities.GetTypeInfo<CallToolResult>(Json));
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
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

    private static JsonRpcMessage? Parse(byte[] body)
    {
        try
        {
            return JsonSerializer.Deserialize(body, McpJsonUtilities.GetTypeInfo<JsonRpcMessage>(Json));
        }
        catch (JsonException)
        {
            return null; // the SDK answers malformed messages
        }
    }

    /// <summary>The call's parameters when the direct lane can serve it: a named tool, no progress token, nothing of the 2026 revision's multi-round requests.</summary>
    private static CallToolRequestParams? ParamsOf(JsonRpcRequest call)
    {
        try
        {
            return call.Params?.Deserialize(McpJsonUtilities.GetTypeInfo<CallToolRequestParams>(Json)) is { Name: { Length: > 0 }, ProgressToken: null, InputResponses: null, RequestState: null } parameters
                ? parameters
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static RequestId? CancelledId(JsonRpcNotification notification)
    {
        try
        {
            return notification.Params?.Deserialize(McpJsonUtilities.GetTypeInfo<CancelledNotificationParams>(Json))?.RequestId;
        }
        catch (JsonException)
        {
            return null;
        }
    }

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

    private static partial class Log
    {
        [LoggerMessage(4401, LogLevel.Error, "tools/call of {Tool} failed unexpectedly")]
        public static partial void CallFailed(ILogger logger, string tool, Exception exception);
    }
}
