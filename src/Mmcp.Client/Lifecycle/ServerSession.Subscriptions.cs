using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Lifecycle;

/// <summary>Resource subscriptions in both protocol eras, and progress routed to the call that asked for it.</summary>
internal sealed partial class ServerSession
{
    /// <summary>
    /// Subscribes to updates of one resource on the shared connection: <c>resources/subscribe</c> on a 2025-era
    /// connection, a <c>subscriptions/listen</c> request naming the resource on a 2026-07-28 one (which has no
    /// <c>resources/subscribe</c>). The updates arrive as <c>notifications/resources/updated</c> on the connection.
    /// </summary>
    public async ValueTask<IAsyncDisposable> SubscribeAsync(string uri, CancellationToken cancellationToken)
    {
        var live = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        if (live.Client.NegotiatedProtocolVersion == ProtocolVersions.Latest)
        {
            var id = new RequestId($"mmcp-subscribe-{Interlocked.Increment(ref _nextRequest)}");
            var stop = CancellationTokenSource.CreateLinkedTokenSource(live.Closed);
            var listen = live.Client.SendRequestAsync<SubscriptionsListenRequestParams, EmptyResult>(
                RequestMethods.SubscriptionsListen,
                new SubscriptionsListenRequestParams { Notifications = new SubscriptionsListenNotifications { ResourceSubscriptions = [uri] } },
                requestId: id,
                cancellationToken: stop.Token).AsTask();
            ObserveFailure(listen);
            return new ListenSubscription(live, id, stop, listen);
        }

        await ExecuteAsync(RequestMethods.ResourcesSubscribe, uri, RequestKind.List, async (client, ct) =>
        {
            await client.SubscribeToResourceAsync(uri, options: null, cancellationToken: ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return new LegacySubscription(live, uri);
    }

    /// <summary>A <c>subscriptions/listen</c> request held open for one resource; disposing it cancels the request on the server.</summary>
    private sealed class ListenSubscription(LiveConnection live, RequestId id, CancellationTokenSource stop, Task listen) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (!listen.IsCompleted && live.IsOpen)
            {
                try
                {
                    await live.Client.SendNotificationAsync(NotificationMethods.CancelledNotification, new CancelledNotificationParams { RequestId = id, Reason = "Unsubscribed." }, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or McpException or InvalidOperationException)
                {
                }
            }

            await stop.CancelAsync().ConfigureAwait(false);
            stop.Dispose();
        }
    }

    /// <summary>A <c>resources/subscribe</c> on one connection; disposing it unsubscribes while that connection lives.</summary>
    private sealed class LegacySubscription(LiveConnection live, string uri) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (!live.IsOpen)
            {
                return; // the server's session, and the subscription with it, is gone
            }

            try
            {
                await live.Client.UnsubscribeFromResourceAsync(uri, options: null, cancellationToken: live.Closed).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or McpException or OperationCanceledException or InvalidOperationException)
            {
            }
        }
    }

    /// <summary>Hands a <c>notifications/progress</c> read from a connection to the call that asked for it.</summary>
    private void RouteProgress(JsonRpcMessage message)
    {
        // Runs for every message read: the cheap type test first (IsEmpty takes the dictionary's locks when it is empty).
        if (message is not JsonRpcNotification { Method: NotificationMethods.ProgressNotification, Params: { } raw } || _progress.IsEmpty)
        {
            return;
        }

        // The hub's tokens are strings of its own (mmcp-progress-<n>).
        if (raw["progressToken"] is not JsonValue token || !token.TryGetValue<string>(out var key) || !_progress.TryGetValue(key, out var progress))
        {
            return;
        }

        if (progress is IProgress<JsonObject> faithful && raw is JsonObject written)
        {
            // The params as the server wrote them: fields the SDK's type does not know (a vendor's, _meta) stay.
            faithful.Report((JsonObject)written.DeepClone());
            return;
        }

        try
        {
            if (raw.Deserialize(ProgressParamsType) is { } p)
            {
                progress.Report(p.Progress);
            }
        }
        catch (JsonException)
        {
            // A malformed notification is the server's problem; the call goes on.
        }
    }
}
