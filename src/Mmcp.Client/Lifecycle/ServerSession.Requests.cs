using System.Diagnostics;
using System.Text.Json;
using Mmcp.Client.Diagnostics;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Lifecycle;

/// <summary>Requests: the call budget, retries of idempotent requests after a crash or a lost session, and tool calls with their cancellation and progress.</summary>
internal sealed partial class ServerSession
{
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
                using var activity = HubTelemetry.ActivitySource.StartActivity(method, ActivityKind.Client);
                activity?.SetTag("mmcp.server", Id);
                activity?.SetTag("mcp.method", method);
                activity?.SetTag("mmcp.target", target);
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

                    activity?.SetStatus(ActivityStatusCode.Error, HubErrorCode.ServerCrashed.ToString());
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
                    activity?.SetStatus(ActivityStatusCode.Error, error.Code.ToString());
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

            var result = await client.SendRequestAsync<CallToolRequestParams, CallToolResult>(RequestMethods.ToolsCall, parameters, requestId: requestId, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (LatencyProbe.Enabled)
            {
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

    /// <summary>An argument as JSON; one that is JSON already (a gateway's, as parsed from its client) goes on as it is.</summary>
    private static JsonElement ToElement(object? value) =>
        value is JsonElement element ? element : JsonSerializer.SerializeToElement(value, McpJsonUtilities.DefaultOptions.GetTypeInfo(value?.GetType() ?? typeof(object)));
}
