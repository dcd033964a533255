using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Atlas.Client.Protocol;
using Atlas.Desktop.Storage;


namespace Atlas.Desktop.Realtime;

/// <summary>One authenticated socket. Outbound frames go through a bounded queue drained by one send loop (a phone that
/// stops reading is disconnected instead of growing memory); closing is requested from any thread.</summary>
/// <remarks>The receive loop applies back-pressure: it reads the next request only while at most half of the queue is
/// taken (<see cref="WaitForRoomAsync"/>), so a burst of requests waits in TCP instead of overflowing the queue; the
/// other half is for frames nobody asked for (heartbeats, broadcasts, progress).</remarks>
internal sealed class DeviceConnection : IDisposable
{
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);
    private readonly WebSocket _socket;
    private readonly Channel<Outbound> _outbound;
    private readonly CancellationTokenSource _closing = new();
    private readonly TimeProvider _time;
    private readonly int _requestWindow;
    private readonly Lock _roomLock = new();
    private TaskCompletionSource? _room;
    private int _queued;
    private long _lastReceived;
    private int _closeRequested;

    public DeviceConnection(WebSocket socket, DeviceRecord device, DateTimeOffset sessionExpiresAt, int queueLength, TimeProvider time)
    {
        _socket = socket;
        Device = device;
        SessionExpiresAt = sessionExpiresAt;
        _time = time;
        _lastReceived = time.GetTimestamp();
        _requestWindow = Math.Max(1, queueLength / 2);
        _outbound = Channel.CreateBounded<Outbound>(new BoundedChannelOptions(queueLength)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public string DeviceId => Device.Id;

    /// <summary>The device as of the last permission change (live sockets see changes at once).</summary>
    public DeviceRecord Device { get; set; }

    public DateTimeOffset SessionExpiresAt { get; set; }

    /// <summary>Cancelled when the connection is closing; handlers stop their work for this socket.</summary>
    public CancellationToken Closing => _closing.Token;

    public TimeSpan Silence => _time.GetElapsedTime(Volatile.Read(ref _lastReceived));

    public bool HasPermission(string permission) => Device.Permissions.Contains(permission, StringComparer.Ordinal);

    public void MarkReceived() => Volatile.Write(ref _lastReceived, _time.GetTimestamp());

    /// <summary>Queues a frame; a full queue means the peer stopped reading, and the socket is dropped.</summary>
    public bool Send(AtlasEnvelope envelope)
    {
        if (Volatile.Read(ref _closeRequested) == 1)
        {
            return false; // closing: late frames (a heartbeat, a status update) are dropped, not a reason to abort
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(envelope, AtlasJsonContext.Default.AtlasEnvelope);
        if (TryQueue(new Outbound(bytes, 0, null)))
        {
            return true;
        }

        if (Volatile.Read(ref _closeRequested) == 0)
        {
            Abort(); // the queue is full: the peer stopped reading
        }

        return false;
    }

    /// <summary>Completes when the receive loop may read the next request: at most half of the send queue is taken.
    /// Waiting here is the back-pressure on a device that sends faster than it reads.</summary>
    public Task WaitForRoomAsync()
    {
        lock (_roomLock)
        {
            if (Volatile.Read(ref _queued) < _requestWindow)
            {
                return Task.CompletedTask;
            }

            _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _room.Task.WaitAsync(Closing);
        }
    }

    public void SendError(string? re, string code, string message, int? retryAfter = null) =>
        Send(new AtlasEnvelope { Type = MessageTypes.Error, Re = re, Error = new AtlasError { Code = code, Message = message, RetryAfter = retryAfter } });

    /// <summary>Sends an optional last frame, then a close frame with <paramref name="code"/>, then stops the socket.</summary>
    public void Close(int code, string reason, AtlasEnvelope? last = null)
    {
        if (Interlocked.Exchange(ref _closeRequested, 1) == 1)
        {
            return;
        }

        if (last is not null)
        {
            TryQueue(new Outbound(JsonSerializer.SerializeToUtf8Bytes(last, AtlasJsonContext.Default.AtlasEnvelope), 0, null));
        }

        if (!TryQueue(new Outbound(null, code, reason)))
        {
            Abort();
        }

        _outbound.Writer.TryComplete();
        try
        {
            // A peer that stopped reading holds the send loop in SendAsync; it gets this long to take the rest.
            _closing.CancelAfter(CloseGrace);
        }
        catch (ObjectDisposedException)
        {
            // The connection is already gone.
        }
    }

    public void Abort()
    {
        Interlocked.Exchange(ref _closeRequested, 1);
        _outbound.Writer.TryComplete();
        _closing.Cancel();
        _socket.Abort();
    }

    /// <summary>The send loop: the only writer of the socket.</summary>
    public async Task RunSendLoopAsync()
    {
        try
        {
            await foreach (var item in _outbound.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                Freed();
                if (item.Payload is null)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _socket.CloseOutputAsync((WebSocketCloseStatus)item.CloseCode, item.CloseReason, timeout.Token).ConfigureAwait(false);
                    break;
                }

                await _socket.SendAsync(item.Payload, WebSocketMessageType.Text, endOfMessage: true, _closing.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away; the receive loop notices too.
        }
        finally
        {
            // Ends the receive loop as well: after our close frame the peer has two seconds to answer it (the receive
            // loop ends at its close frame); cancelling a receive aborts the connection.
            _outbound.Writer.TryComplete();
            try
            {
                _closing.CancelAfter(TimeSpan.FromSeconds(2));
            }
            catch (ObjectDisposedException)
            {
                // The connection is already gone.
            }
        }
    }

    public void Dispose() => _closing.Dispose();

    private bool TryQueue(Outbound item)
    {
        Interlocked.Increment(ref _queued);
        if (_outbound.Writer.TryWrite(item))
        {
            return true;
        }

        Interlocked.Decrement(ref _queued);
        return false;
    }

    private void Freed()
    {
        if (Interlocked.Decrement(ref _queued) >= _requestWindow)
        {
            return;
        }

        TaskCompletionSource? room;
        lock (_roomLock)
        {
            room = _room;
            _room = null;
        }

        room?.TrySetResult();
    }

    private readonly record struct Outbound(byte[]? Payload, int CloseCode, string? CloseReason);
}
