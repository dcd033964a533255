using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Realtime;

/// <summary>One timer for all sockets: sends application-level <c>ping</c> frames, closes sockets that have been silent
/// for too many intervals (half-open connections) and sockets whose session expired.</summary>
internal sealed class HeartbeatService : BackgroundService
{
    private readonly ConnectionRegistry _registry;
    private readonly RealtimeOptions _options;
    private readonly TimeProvider _time;

    public HeartbeatService(ConnectionRegistry registry, IOptions<AtlasOptions> options, AtlasTime time)
    {
        _registry = registry;
        _options = options.Value.WebSocket;
        _time = time.Provider;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Beat();
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    internal void Beat()
    {
        var now = _time.GetUtcNow();
        var deadline = _options.HeartbeatInterval * _options.HeartbeatMisses;
        foreach (var connection in _registry.Snapshot())
        {
            if (connection.SessionExpiresAt <= now)
            {
                connection.Close(AtlasProtocol.CloseSessionExpired, ErrorCodes.SessionExpired, new AtlasEnvelope
                {
                    Type = MessageTypes.Error,
                    Error = new AtlasError { Code = ErrorCodes.SessionExpired, Message = "The session expired; renew it with the device credential and reconnect, or send a new auth frame before expiry." },
                });
            }
            else if (connection.Silence > deadline)
            {
                connection.Close(AtlasProtocol.CloseHeartbeatTimeout, "heartbeat_timeout");
            }
            else
            {
                connection.Send(new AtlasEnvelope { Type = MessageTypes.Ping, Id = "s-ping" });
            }
        }
    }
}
