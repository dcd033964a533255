using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Mmcp.Client.Diagnostics;
using Mmcp.Client.Traffic;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Lifecycle;

/// <summary>Requests: the call budget, retries of idempotent requests after a crash or a lost session, and tool calls with their cancellation and progress.</summary>
internal sealed partial class ServerSession
{
    // The SDK's telemetry names (its spans, its client duration histogram). The same names here see the same
    // listeners: whoever listens to the SDK's, listens to these, and then every call goes the SDK's way.
    private const string SdkTelemetryName = "Experimental.ModelContextProtocol";
    private static readonly ActivitySource SdkActivities = new(SdkTelemetryName);
    private static readonly Meter SdkMeter = new(SdkTelemetryName);
    private static readonly Histogram<double> SdkClientDuration = SdkMeter.CreateHistogram<double>("mcp.client.operation.duration", "s");
    private static readonly JsonTypeInfo<CallToolResult> CallToolResultType = McpJsonUtilities.GetTypeInfo<CallToolResult>(McpJsonUtilities.DefaultOptions);
    private static readonly JsonTypeInfo<JsonRpcErrorDetail> ErrorDetailType = McpJsonUtilities.GetTypeInfo<JsonRpcErrorDetail>(McpJsonUtilities.DefaultOptions);
    private static readonly JsonTypeInfo<System.Text.Json.Nodes.JsonObject> MetaType = McpJsonUtilities.GetTypeInfo<System.Text.Json.Nodes.JsonObject>(McpJsonUtilities.DefaultOptions);
    private static readonly JsonTypeInfo<CallToolRequestParams> CallParamsType = McpJsonUtilities.GetTypeInfo<CallToolRequestParams>(McpJsonUtilities.DefaultOptions);
    private static readonly JsonWriterOptions RequestWriting = new() { Encoder = McpJsonUtilities.DefaultOptions.Encoder };
    private ILogger? _sdkLogger;

    public async ValueTask<T> ExecuteAsync<T>(string method, string? target, RequestKind kind, Func<McpClient, CancellationToken, ValueTask<T>> operation, CancellationToken cancellationToken)
    {
        var attempts = kind == RequestKind.CallTool ? 1 : 1 + _rt.Options.IdempotentRetries;
        var sessionRenewed = false;

        // Counted as in use from before connecting, so the idle timer cannot close the connection under this request.
        Interlocked.Increment(ref _inFlight);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var live = await ConnectAsync(cancellationToken).ConfigureAwait(false);
                var started = Stopwatch.GetTimestamp();
                using var activity = HubTelemetry.StartRequest(Id, method, target, _server.Manifest.Transport.Type);
                using var timeout = new CancellationTokenSource(_budgets.Call, _rt.Time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, live.Closed);
                try
                {
                    var result = await operation(live.Client, linked.Token).ConfigureAwait(false);
                    OnSuccess();
                    HubTelemetry.RecordRequest(Id, method, "ok", Stopwatch.GetElapsedTime(started));
                    return result;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not HubException && !sessionRenewed && IsSessionLost(ex, live))
                {
                    // A remote server that restarted no longer knows this session (404, or 400 naming the session):
                    // start a new one and send the request again once, when sending it twice does no harm.
                    sessionRenewed = true;
                    var retry = kind != RequestKind.CallTool || (method == RequestMethods.ToolsCall && IsIdempotentTool(target));
                    var failure = await DropLostSessionAsync(live, ex, method, target).ConfigureAwait(false);
                    HubTelemetry.RecordRequest(Id, method, HubErrorCode.ServerCrashed.ToString(), Stopwatch.GetElapsedTime(started));
                    if (retry && !_disposing.IsCancellationRequested)
                    {
                        Log.RenewingSession(_rt.Logger, Id, method);
                        continue;
                    }

                    HubTelemetry.Fail(activity, HubErrorCode.ServerCrashed.ToString());
                    HubTelemetry.RecordError(Id, HubErrorCode.ServerCrashed);
                    var what = target is null ? method : $"{method} '{target}'";
                    throw new HubException(
                        HubErrorCode.ServerCrashed,
                        Id,
                        $"{failure.Message} during {what}. The request was not retried because it may have had effects (the tool is not annotated read-only or idempotent); the hub started a new session, so calling again reaches the restarted server.",
                        ex,
                        failure)
                    { Target = target };
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not HubException)
                {
                    var error = await ClassifyAsync(ex, live, timeout.IsCancellationRequested, method, target, kind).ConfigureAwait(false);
                    HubTelemetry.RecordRequest(Id, method, error.Code.ToString(), Stopwatch.GetElapsedTime(started));
                    if (error.Code == HubErrorCode.SignInRequired)
                    {
                        lock (_gate)
                        {
                            RecordFailureLocked(ToFailure(error), countsTowardsBackoff: false);
                        }
                    }

                    HubTelemetry.Fail(activity, error.Code.ToString());
                    if (FailureClassifier.IsTransient(error.Code) && attempt < attempts && !_disposing.IsCancellationRequested)
                    {
                        Log.RetryingAfterCrash(_rt.Logger, Id, method, attempt);
                        continue;
                    }

                    HubTelemetry.RecordError(Id, error.Code);
                    throw error;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    HubTelemetry.RecordRequest(Id, method, "cancelled", Stopwatch.GetElapsedTime(started));
                    throw;
                }
                catch (HubException ex) when (ex.Code == HubErrorCode.SignInRequired)
                {
                    // The connection's credentials stopped working (a revoked device, an expired sign-in): remembered, so
                    // listings stop showing the server's known lists until a connection opens again.
                    HubTelemetry.RecordRequest(Id, method, ex.Code.ToString(), Stopwatch.GetElapsedTime(started));
                    lock (_gate)
                    {
                        RecordFailureLocked(ToFailure(ex), countsTowardsBackoff: false);
                    }

                    throw;
                }
            }
        }
        finally
        {
            EndUse();
        }
    }

    public async ValueTask<CallToolResult> CallToolAsync(string tool, IReadOnlyDictionary<string, object?>? arguments, IProgress<ProgressNotificationValue>? progress, CancellationToken cancellationToken)
    {
        var tools = await GetLiveToolsAsync(cancellationToken).ConfigureAwait(false);
        if (!Contains(tools, tool))
        {
            // Servers that do not announce list changes may have gained the tool since: look once more.
            Invalidate();
            tools = await GetLiveToolsAsync(cancellationToken).ConfigureAwait(false);
            if (!Contains(tools, tool))
            {
                HubTelemetry.RecordError(Id, HubErrorCode.UnknownTool);
                throw new HubException(HubErrorCode.UnknownTool, Id, $"Server '{Id}' has no tool '{tool}'. {DescribeTools(tools)}") { Target = tool };
            }
        }

        return await ExecuteAsync(
            RequestMethods.ToolsCall,
            tool,
            RequestKind.CallTool,
            (client, ct) => CallWithCancellationAsync(client, tool, arguments, progress, ct),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Calls a tool with a request id of the hub's own, so a cancelled call is always announced to the server with
    /// <c>notifications/cancelled</c> (SDK 2.3.1 abandons the request silently), and progress is matched by token.
    /// </summary>
    private async ValueTask<CallToolResult> CallWithCancellationAsync(McpClient client, string tool, IReadOnlyDictionary<string, object?>? arguments, IProgress<ProgressNotificationValue>? progress, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextRequest);
        var requestId = new RequestId($"mmcp-call-{id}");
        var parameters = new CallToolRequestParams
        {
            Name = tool,
            Arguments = arguments?.ToDictionary(kv => kv.Key, kv => ToElement(kv.Value), StringComparer.Ordinal),
        };
        string? progressKey = null;
        if (progress is not null)
        {
            progressKey = $"mmcp-progress-{id}";
            parameters.Meta = new System.Text.Json.Nodes.JsonObject { ["progressToken"] = progressKey };
            _progress[progressKey] = progress;
        }

        try
        {
            if (LatencyProbe.Enabled)
            {
                LatencyProbe.Mark(LatencyMark.UpstreamSend);
            }

            var result = ReaderRequests(client) is { } requests
                ? await CallMatchedByReaderAsync(client, requests, requestId, parameters, cancellationToken).ConfigureAwait(false)
                : await ResultJson.RequestAsync<CallToolRequestParams, CallToolResult>(client, RequestMethods.ToolsCall, parameters, cancellationToken, requestId).ConfigureAwait(false); // through the SDK client's loop, keeping the server's JSON
            if (LatencyProbe.Enabled)
            {
                LatencyProbe.MarkUpstreamRead(Connectors.PipeClientTransport.ReadAt);
                LatencyProbe.Mark(LatencyMark.UpstreamAnswered);
            }

            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !client.Completion.IsCompleted)
        {
            try
            {
                await client.SendNotificationAsync(
                    NotificationMethods.CancelledNotification,
                    new CancelledNotificationParams { RequestId = requestId, Reason = "The caller cancelled the call." },
                    cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or McpException or InvalidOperationException)
            {
            }

            throw;
        }
        finally
        {
            if (progressKey is not null)
            {
                _progress.TryRemove(progressKey, out _);
            }
        }
    }

    /// <summary>
    /// The way past the SDK client's loop for a call on this connection, when the call would do there nothing else
    /// than send the request and read the answer: the hub's own stdio transport, a session before 2026-07-28 (on
    /// those the SDK adds per-request metadata), and nobody listening to the SDK's spans (without them it neither
    /// starts a span nor sends a trace context), its metrics or its per-request logs, so what is observable stays as it was.
    /// </summary>
    private IReaderRequests? ReaderRequests(McpClient client)
    {
        if (Volatile.Read(ref _live) is not { Requests: { } requests } live || !ReferenceEquals(live.Client, client)
            || string.CompareOrdinal(client.NegotiatedProtocolVersion, ProtocolVersions.Latest) >= 0
            || SdkActivities.HasListeners() || SdkClientDuration.Enabled)
        {
            return null;
        }

        var sdkLogger = _sdkLogger ??= _rt.LoggerFactory.CreateLogger<McpClient>();
        return sdkLogger.IsEnabled(LogLevel.Debug) ? null : requests;
    }

    /// <summary>
    /// A <c>tools/call</c> whose answer the transport's reader matches by id and hands over as the server wrote it:
    /// the request as the SDK would send it, and the answer read as the SDK reads it (a JSON-RPC error becomes the
    /// same <see cref="McpProtocolException"/>). A result that asks for input (<c>input_required</c>) goes to the
    /// SDK client, which sends the request again and answers what the server asks.
    /// </summary>
    private async ValueTask<CallToolResult> CallMatchedByReaderAsync(McpClient client, IReaderRequests requests, RequestId requestId, CallToolRequestParams parameters, CancellationToken cancellationToken)
    {
        var id = (string)requestId.Id!;
        var answer = await requests.RequestAsync(id, CallRequestJson(id, parameters), () => CallRequest(requestId, parameters), cancellationToken).ConfigureAwait(false);
        var reader = new Utf8JsonReader(answer);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                var error = JsonSerializer.Deserialize(ref reader, ErrorDetailType) ?? throw new JsonException("Unexpected JSON error in response.");
                Log.CallFailedRemotely(_sdkLogger!, Id, RequestMethods.ToolsCall, error.Message, error.Code);
                throw RemoteError(error);
            }

            if (reader.ValueTextEquals("result"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject && AsksForInput(reader))
                {
                    return await ResultJson.RequestAsync<CallToolRequestParams, CallToolResult>(client, RequestMethods.ToolsCall, parameters, cancellationToken, new RequestId($"{requestId.Id}-sdk")).ConfigureAwait(false);
                }

                var start = (int)reader.TokenStartIndex;
                var result = JsonSerializer.Deserialize(ref reader, CallToolResultType) ?? throw new JsonException("Unexpected JSON result in response.");
                return ResultJson.Attach(result, answer.AsMemory(start, (int)reader.BytesConsumed - start)); // the server's own text, vendor fields and all
            }

            reader.Read();
            reader.Skip();
        }

        throw new JsonException("Unexpected JSON result in response.");
    }

    /// <summary>The <c>tools/call</c> request as a message (what the SDK would send).</summary>
    internal static JsonRpcRequest CallRequest(RequestId id, CallToolRequestParams parameters) => new()
    {
        Id = id,
        Method = RequestMethods.ToolsCall,
        Params = JsonSerializer.SerializeToNode(parameters, CallParamsType),
    };

    /// <summary>
    /// The same request written straight as JSON, with no tree of nodes in between: each argument's value goes as the
    /// caller's JSON held it (an element of the caller's request on the gateway's direct lane), escapes included, with
    /// nothing decoded and encoded again.
    /// </summary>
    internal static ReadOnlyMemory<byte> CallRequestJson(string id, CallToolRequestParams parameters)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, RequestWriting))
        {
            writer.WriteStartObject(); // in the SDK's order
            writer.WriteString("method"u8, "tools/call"u8);
            writer.WriteStartObject("params"u8);
            writer.WriteString("name"u8, parameters.Name);
            if (parameters.Arguments is { } arguments)
            {
                writer.WriteStartObject("arguments"u8);
                foreach (var (name, value) in arguments)
                {
                    writer.WritePropertyName(name);
                    writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true); // a parsed element: valid JSON
                }

                writer.WriteEndObject();
            }

            if (parameters.Meta is { } meta)
            {
                writer.WritePropertyName("_meta"u8);
                JsonSerializer.Serialize(writer, meta, MetaType);
            }

            writer.WriteEndObject();
            writer.WriteString("id"u8, id);
            writer.WriteString("jsonrpc"u8, "2.0"u8);
            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    /// <summary>Whether a result (the reader at its start) is <c>"resultType": "input_required"</c>; the reader given is a copy.</summary>
    private static bool AsksForInput(Utf8JsonReader result)
    {
        var depth = result.CurrentDepth;
        while (result.Read() && result.TokenType == JsonTokenType.PropertyName && result.CurrentDepth == depth + 1)
        {
            var isType = result.ValueTextEquals("resultType"u8);
            result.Read();
            if (isType)
            {
                return result.TokenType == JsonTokenType.String && result.ValueTextEquals("input_required"u8);
            }

            result.Skip();
        }

        return false;
    }

    /// <summary>The exception the SDK client throws for a JSON-RPC error answer: its message, code and data.</summary>
    private static McpProtocolException RemoteError(JsonRpcErrorDetail error)
    {
        var exception = new McpProtocolException($"Request failed (remote): {error.Message}", (McpErrorCode)error.Code);
        if (error.Data is JsonElement { ValueKind: JsonValueKind.Object } data)
        {
            foreach (var property in data.EnumerateObject())
            {
                object? value = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString(),
                    JsonValueKind.Number => property.Value.GetDouble(),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Null => null,
                    _ => property.Value,
                };
                exception.Data[property.Name] = value;
            }
        }

        return exception;
    }

    /// <summary>An argument as JSON; one that is JSON already (a gateway's, as parsed from its client) goes on as it is.</summary>
    private static JsonElement ToElement(object? value) =>
        value is JsonElement element ? element : JsonSerializer.SerializeToElement(value, McpJsonUtilities.DefaultOptions.GetTypeInfo(value?.GetType() ?? typeof(object)));
}
