using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Mmcp.Client;
using Mmcp.Client.Traffic;
using Mmcp.Gateway.Rest;
using Mmcp.Gateway.Security;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Inspect;

/// <summary>
/// <c>GET /inspect/{serverId}</c>: a live Server-Sent Events stream of one server's JSON-RPC traffic through the
/// gateway (every connection: the shared one and pass-through sessions), one JSON object per message with its kind,
/// id, method, the time between a request and its answer, and the message itself. Needs the <c>inspect</c> scope.
/// </summary>
internal sealed class InspectEndpoint(Aggregation.GatewayCatalog catalog, TokenStore tokens, TimeProvider time)
{
    private const int MaxPayloadChars = 64 * 1024;

    public async Task StreamAsync(HttpContext context)
    {
        var serverId = context.Request.RouteValues["id"] as string ?? string.Empty;
        var hub = catalog.Hub;
        try
        {
            await catalog.EnsureDiscoveredAsync(context.RequestAborted).ConfigureAwait(false);
            hub.GetServerStatus(serverId);
        }
        catch (HubException ex)
        {
            await RequestGuard.WriteErrorAsync(context, StatusCodes.Status404NotFound, ex.Code.ToString(), ex.Message, serverId).ConfigureAwait(false);
            return;
        }

        var queue = Channel.CreateBounded<HubTrafficEvent>(new BoundedChannelOptions(2048) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        using var subscription = hub.ObserveTraffic(serverId, e => queue.Writer.TryWrite(e));
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache,no-store";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var pending = new Dictionary<(string, TrafficDirection, string), (string Method, long Timestamp)>();

        // The stream lasts no longer than its token: revoked or expired, it ends within a second, as sessions do.
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        using var watch = RestEndpoints.Caller(context).Token is { } token
            ? time.CreateTimer(static s => ((Watch)s!).Check(), new Watch(tokens, token, gone), Sessions.SessionDirectory.OwnerCheckPeriod, Sessions.SessionDirectory.OwnerCheckPeriod)
            : null;
        var ct = gone.Token;
        try
        {
            await WriteEventAsync(response, "ready", $"{{\"server\":{JsonSerializer.Serialize(serverId, GatewayJsonContext.Default.String)}}}", ct).ConfigureAwait(false);
            while (await queue.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (queue.Reader.TryRead(out var e))
                {
                    await WriteEventAsync(response, "message", Describe(e, pending), ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private sealed class Watch(TokenStore tokens, GatewayToken token, CancellationTokenSource gone)
    {
        public void Check()
        {
            if (tokens.Gone(token) is not null)
            {
                try
                {
                    gone.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // The stream ended meanwhile.
                }
            }
        }
    }

    internal static string Describe(HubTrafficEvent e, Dictionary<(string, TrafficDirection, string), (string Method, long Timestamp)> pending)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("at", e.At.ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("server", e.ServerId);
            w.WriteString("connection", e.ConnectionId);
            w.WriteString("direction", e.Direction == TrafficDirection.ToServer ? "to-server" : "from-server");
            switch (e.Message)
            {
                case JsonRpcRequest request:
                    w.WriteString("kind", "request");
                    w.WriteString("id", request.Id.ToString());
                    w.WriteString("method", request.Method);
                    pending[(e.ConnectionId, e.Direction, request.Id.ToString())] = (request.Method, e.Timestamp);
                    break;
                case JsonRpcNotification notification:
                    w.WriteString("kind", "notification");
                    w.WriteString("method", notification.Method);
                    break;
                case JsonRpcMessageWithId answer:
                    w.WriteString("kind", answer is JsonRpcError ? "error" : "response");
                    w.WriteString("id", answer.Id.ToString());
                    var requestDirection = e.Direction == TrafficDirection.ToServer ? TrafficDirection.FromServer : TrafficDirection.ToServer;
                    if (pending.Remove((e.ConnectionId, requestDirection, answer.Id.ToString()), out var started))
                    {
                        w.WriteString("method", started.Method);
                        w.WriteNumber("ms", Math.Round(TimeProvider.System.GetElapsedTime(started.Timestamp, e.Timestamp).TotalMilliseconds, 3));
                    }

                    if (answer is JsonRpcError error)
                    {
                        w.WriteNumber("code", error.Error.Code);
                        w.WriteString("error", error.Error.Message);
                    }

                    break;
            }

            var payload = JsonSerializer.Serialize(e.Message, McpJsonUtilities.GetTypeInfo<JsonRpcMessage>(McpJsonUtilities.DefaultOptions));
            if (payload.Length <= MaxPayloadChars)
            {
                w.WritePropertyName("message");
                w.WriteRawValue(payload, skipInputValidation: true);
            }
            else
            {
                w.WriteString("message", payload[..MaxPayloadChars] + "…");
                w.WriteBoolean("truncated", true);
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static async Task WriteEventAsync(HttpResponse response, string name, string data, CancellationToken ct)
    {
        await response.WriteAsync($"event: {name}\ndata: {data}\n\n", ct).ConfigureAwait(false);
        await response.Body.FlushAsync(ct).ConfigureAwait(false);
    }
}
