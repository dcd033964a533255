using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Traffic;

/// <summary>
/// Fans the JSON-RPC messages of every connection out to observers. Costs one volatile read per message while nobody
/// observes; observers run inline on the transport's thread and must be quick (queue the event and return).
/// </summary>
internal sealed partial class TrafficTap
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private volatile Subscription[] _subscriptions = [];
    private readonly Lock _gate = new();

    public TrafficTap(TimeProvider time, ILogger logger)
    {
        _time = time;
        _logger = logger;
    }

    public bool IsActive => _subscriptions.Length > 0;

    public IDisposable Subscribe(string? serverId, Action<HubTrafficEvent> observer)
    {
        var subscription = new Subscription(this, serverId, observer);
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions, subscription];
        }

        return subscription;
    }

    public void Publish(string serverId, string connectionId, TrafficDirection direction, JsonRpcMessage message)
    {
        var subscriptions = _subscriptions;
        if (subscriptions.Length == 0)
        {
            return;
        }

        HubTrafficEvent? e = null;
        foreach (var s in subscriptions)
        {
            if (s.ServerId is not null && !string.Equals(s.ServerId, serverId, StringComparison.Ordinal))
            {
                continue;
            }

            e ??= new HubTrafficEvent(serverId, connectionId, direction, message, _time.GetUtcNow(), _time.GetTimestamp());
            try
            {
                s.Observer(e);
            }
            catch (Exception ex)
            {
                Log.ObserverFailed(_logger, serverId, ex);
            }
        }
    }

    private sealed class Subscription(TrafficTap tap, string? serverId, Action<HubTrafficEvent> observer) : IDisposable
    {
        public string? ServerId { get; } = serverId;

        public Action<HubTrafficEvent> Observer { get; } = observer;

        public void Dispose()
        {
            lock (tap._gate)
            {
                tap._subscriptions = [.. tap._subscriptions.Where(s => !ReferenceEquals(s, this))];
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3301, LogLevel.Warning, "A traffic observer of {ServerId} threw")]
        public static partial void ObserverFailed(ILogger logger, string serverId, Exception exception);
    }
}
