using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Atlas.Client.Protocol;
using Shared.Timing;

namespace Atlas.Client.Connection;

/// <summary>A reconnecting, authenticated WebSocket connection to the desktop.</summary>
/// <remarks>
/// Requests carry client-generated ids. A request still unanswered when the socket drops is sent again with the same id
/// after reconnecting, and the desktop answers a repeated id from its idempotency cache instead of doing the work twice.
/// Reconnects back off exponentially with full jitter. Revocation closes the connection for good.
/// </remarks>
public sealed class AtlasConnection : IAsyncDisposable
{
    private readonly AtlasClient _client;
    private readonly AtlasClientOptions _options;
    private readonly ConcurrentDictionary<string, PendingRequest> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Channel<AtlasEnvelope>> _streams = new(StringComparer.Ordinal);
    private TaskCompletionSource _reconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<AtlasEnvelope> _events = Channel.CreateBounded<AtlasEnvelope>(
        new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = false });
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClientWebSocket? _socket;
    private Task? _runTask;
    private long _lastReceived;
    private TimeSpan _heartbeat;
    private DateTimeOffset _sessionExpiresAt = DateTimeOffset.MaxValue;
    private long _nextId;
    private int _reconnects;
    private int _disposed;
    private int _state = (int)AtlasConnectionState.Connected;

    internal AtlasConnection(AtlasClient client, AtlasClientOptions options)
    {
        _client = client;
        _options = options;
        _heartbeat = options.HeartbeatInterval;
    }

    /// <summary>The authenticated device.</summary>
    public string DeviceId { get; private set; } = "";

    /// <summary>The device's permissions as of the last <c>auth_success</c> or <c>status_update</c>.</summary>
    public IReadOnlyList<string> Permissions { get; private set; } = [];

    /// <summary>Frames the server sent on its own (<c>status_update</c>, chat deltas, media progress) or that answer no
    /// pending request.</summary>
    public ChannelReader<AtlasEnvelope> Events => _events.Reader;

    /// <summary>Completes with the reason (an error code) when the connection closes for good.</summary>
    public Task<string> Closed => _closed.Task;

    /// <summary>How many times the connection was re-established.</summary>
    public int Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>Whether the socket is up, being re-established, or closed for good.</summary>
    public AtlasConnectionState State => (AtlasConnectionState)Volatile.Read(ref _state);

    /// <summary>Raised (on a background thread) when <see cref="State"/> changes: show "reconnecting…" and flush an
    /// outbox when it is <see cref="AtlasConnectionState.Connected"/> again. Handlers must not block.</summary>
    public event Action<AtlasConnectionState>? StateChanged;

    private void SetState(AtlasConnectionState state)
    {
        if (Interlocked.Exchange(ref _state, (int)state) != (int)state)
        {
            StateChanged?.Invoke(state);
        }
    }

    internal async Task StartAsync(CancellationToken cancellationToken)
    {
        await ConnectOnceAsync(cancellationToken).ConfigureAwait(false);
        _runTask = Task.Run(RunAsync, CancellationToken.None);
    }

    /// <summary>Sends a request and waits for the first frame that answers it.</summary>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="requestId">The request id (idempotency key); generated when omitted.</param>
    /// <param name="cancellationToken">Stops waiting (the request may still run on the desktop).</param>
    /// <returns>The answering frame.</returns>
    /// <exception cref="AtlasException">The desktop answered with an error.</exception>
    public async Task<AtlasEnvelope> RequestAsync(string type, JsonElement? data, string? requestId = null,
        CancellationToken cancellationToken = default)
    {
        var envelope = new AtlasEnvelope { Type = type, Id = requestId ?? NewId(), Data = data };
        var pending = new PendingRequest(envelope);
        if (!_pending.TryAdd(envelope.Id!, pending))
        {
            throw new InvalidOperationException($"A request with id '{envelope.Id}' is already pending.");
        }

        try
        {
            await TrySendAsync(envelope, cancellationToken).ConfigureAwait(false);
            var reply = await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (reply.Type == MessageTypes.Error)
            {
                throw new AtlasException(reply.Error?.Code ?? ErrorCodes.InternalError, reply.Error?.Message ?? "Unknown error.")
                {
                    RetryAfter = reply.Error?.RetryAfter,
                };
            }

            return reply;
        }
        finally
        {
            _pending.TryRemove(envelope.Id!, out _);
        }
    }

    /// <summary>Sends a frame without waiting for an answer.</summary>
    /// <param name="envelope">The frame.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the frame is written.</returns>
    public Task SendAsync(AtlasEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return SendCoreAsync(_socket, envelope, cancellationToken);
    }

    private string NewId() => "c" + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture)
        + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Routes every frame answering <paramref name="requestId"/> (<c>re</c>) to a channel until
    /// <see cref="CloseStream"/>: for requests answered by many frames, such as chat streams. Pass <paramref name="into"/>
    /// to route another request id (a resume after a reconnect) into the same channel.</summary>
    internal Channel<AtlasEnvelope> OpenStream(string requestId, Channel<AtlasEnvelope>? into = null)
    {
        var channel = into ?? Channel.CreateUnbounded<AtlasEnvelope>(new UnboundedChannelOptions { SingleReader = false });
        if (!_streams.TryAdd(requestId, channel))
        {
            throw new InvalidOperationException($"A stream with request id '{requestId}' is already open.");
        }

        if (_closed.Task.IsCompleted)
        {
#pragma warning disable RS0030 // the task is complete (checked above): reading its result does not block
            var reason = _closed.Task.Result;
#pragma warning restore RS0030
            channel.Writer.TryComplete(new AtlasException(ErrorCodes.Unauthorized, $"The connection to the desktop closed ({reason})."));
        }

        return channel;
    }

    internal void CloseStream(string requestId) => _streams.TryRemove(requestId, out _);

    /// <summary>Completes at the next reconnect after <paramref name="seen"/> reconnects (at once if one happened since).</summary>
    internal Task WhenReconnectedAsync(int seen) => Reconnects > seen ? Task.CompletedTask : Volatile.Read(ref _reconnected).Task;

    /// <summary>Sends a frame if the socket is up; when it is not, the caller re-sends after the reconnect.</summary>
    internal async Task TrySendAsync(AtlasEnvelope envelope, CancellationToken cancellationToken)
    {
        try
        {
            await SendCoreAsync(_socket, envelope, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException or IOException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The socket is down: the request stays pending and is sent again after the reconnect.
        }
    }

    private async Task SendCoreAsync(ClientWebSocket? socket, AtlasEnvelope envelope, CancellationToken cancellationToken)
    {
        if (socket is null)
        {
            throw new InvalidOperationException("The connection is not open.");
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(envelope, AtlasJsonContext.Default.AtlasEnvelope);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ConnectOnceAsync(CancellationToken cancellationToken)
    {
        var session = await _client.GetSessionAsync(cancellationToken).ConfigureAwait(false);
        var socket = _client.CreateWebSocket();
        try
        {
            await socket.ConnectAsync(_client.WebSocketUri, cancellationToken).ConfigureAwait(false);
            var auth = new AtlasEnvelope
            {
                Type = MessageTypes.Auth,
                Id = NewId(),
                Data = JsonSerializer.SerializeToElement(new AuthFrame { Token = session.SessionToken }, AtlasJsonContext.Default.AuthFrame),
            };
            await SendCoreAsync(socket, auth, cancellationToken).ConfigureAwait(false);
            var reply = await ReceiveAsync(socket, cancellationToken).ConfigureAwait(false)
                ?? throw new AtlasException(ErrorCodes.Unauthorized, "The desktop closed the connection during authentication.");
            if (reply.Type != MessageTypes.AuthSuccess)
            {
                if (reply.Error?.Code is ErrorCodes.SessionExpired or ErrorCodes.Unauthorized)
                {
                    _client.InvalidateSession();
                }

                throw new AtlasException(reply.Error?.Code ?? ErrorCodes.Unauthorized, reply.Error?.Message ?? "Authentication failed.");
            }

            var success = reply.Data?.Deserialize(AtlasJsonContext.Default.AuthSuccessFrame);
            DeviceId = success?.DeviceId ?? "";
            _sessionExpiresAt = success?.SessionExpiresAt ?? DateTimeOffset.MaxValue;
            Permissions = success?.Permissions ?? [];
            if (success is { HeartbeatSeconds: > 0 })
            {
                _heartbeat = TimeSpan.FromSeconds(success.HeartbeatSeconds);
            }

            Volatile.Write(ref _lastReceived, _options.TimeProvider.GetTimestamp());
            var old = Interlocked.Exchange(ref _socket, socket);
            old?.Dispose();
            socket = null;
        }
        finally
        {
            socket?.Dispose();
        }

        foreach (var pending in _pending.Values)
        {
            await TrySendAsync(pending.Request, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<AtlasEnvelope?> ReceiveAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var writer = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                writer.Write(buffer.AsSpan(0, result.Count));
                if (writer.WrittenCount > _options.MaxFrameBytes)
                {
                    throw new AtlasException(ErrorCodes.TooLarge, "The desktop sent a frame larger than the client's limit.");
                }

                if (result.EndOfMessage)
                {
                    Volatile.Write(ref _lastReceived, _options.TimeProvider.GetTimestamp());
                    return JsonSerializer.Deserialize(writer.WrittenSpan, AtlasJsonContext.Default.AtlasEnvelope);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task RunAsync()
    {
        var token = _lifetime.Token;
        var attempt = 0;
        while (!token.IsCancellationRequested)
        {
            var socket = _socket!;
            using var heartbeatStop = CancellationTokenSource.CreateLinkedTokenSource(token);
            var heartbeat = HeartbeatAsync(socket, heartbeatStop.Token);
            string? permanent = null;
            try
            {
                while (true)
                {
                    var envelope = await ReceiveAsync(socket, token).ConfigureAwait(false);
                    if (envelope is null)
                    {
                        permanent = socket.CloseStatus is { } status && (int)status == AtlasProtocol.CloseRevoked
                            ? ErrorCodes.Revoked
                            : null;
                        break;
                    }

                    attempt = 0;
                    await DispatchAsync(envelope, token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is WebSocketException or JsonException or AtlasException or OperationCanceledException
                or ObjectDisposedException or IOException)
            {
                // Dropped, malformed or cancelled: reconnect below unless we are shutting down.
            }

            await heartbeatStop.CancelAsync().ConfigureAwait(false);
            await heartbeat.ConfigureAwait(false);
            if (token.IsCancellationRequested || permanent is not null)
            {
                Close(permanent ?? "closed");
                return;
            }

            SetState(AtlasConnectionState.Reconnecting);

            while (!token.IsCancellationRequested)
            {
                attempt++;
                var delay = Backoff.Delay(attempt - 1, _options.ReconnectBaseDelay, _options.ReconnectMaxDelay, BackoffJitter.Full);
                try
                {
                    await Task.Delay(delay, _options.TimeProvider, token).ConfigureAwait(false);
                    await ConnectOnceAsync(token).ConfigureAwait(false);
                    Interlocked.Increment(ref _reconnects);
                    Interlocked.Exchange(ref _reconnected, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                    SetState(AtlasConnectionState.Connected);
                    break;
                }
                catch (AtlasException e) when (e.Code is ErrorCodes.Revoked or ErrorCodes.PairingDenied)
                {
                    Close(e.Code);
                    return;
                }
                catch (Exception e) when (e is WebSocketException or HttpRequestException or AtlasException
                    or TaskCanceledException or IOException or JsonException)
                {
                    // Desktop unreachable or restarting: back off and try again.
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        Close("closed");
    }

    private async Task DispatchAsync(AtlasEnvelope envelope, CancellationToken cancellationToken)
    {
        if (envelope.Type == MessageTypes.Ping)
        {
            await TrySendAsync(new AtlasEnvelope { Type = MessageTypes.Pong, Re = envelope.Id }, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (envelope.Type == MessageTypes.Pong)
        {
            return;
        }

        if (envelope.Type == MessageTypes.StatusUpdate
            && envelope.Data is { ValueKind: JsonValueKind.Object } data
            && data.TryGetProperty("permissions", out var permissions)
            && permissions.ValueKind == JsonValueKind.Array)
        {
            Permissions = [.. permissions.EnumerateArray().Select(p => p.GetString() ?? "")];
        }

        if (envelope.Re is { } streamId && _streams.TryGetValue(streamId, out var stream))
        {
            stream.Writer.TryWrite(envelope);
            return;
        }

        if (envelope.Re is { } re && _pending.TryRemove(re, out var pending))
        {
            pending.Completion.TrySetResult(envelope);
            return;
        }

        _events.Writer.TryWrite(envelope);
    }

    private async Task HeartbeatAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(_heartbeat, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                var silent = _options.TimeProvider.GetElapsedTime(Volatile.Read(ref _lastReceived));
                if (silent > _heartbeat * 3)
                {
                    // Half-open connection: nothing arrived for three intervals. Abort so the receive loop reconnects.
                    socket.Abort();
                    return;
                }

                await TrySendAsync(new AtlasEnvelope { Type = MessageTypes.Ping, Id = NewId() }, cancellationToken).ConfigureAwait(false);
                if (_sessionExpiresAt - _options.TimeProvider.GetUtcNow() < _options.SessionRenewBefore)
                {
                    // Renew before the desktop closes the socket at expiry: a fresh session, sent as a new auth frame.
                    var session = await _client.GetSessionAsync(cancellationToken).ConfigureAwait(false);
                    _sessionExpiresAt = session.ExpiresAt;
                    await TrySendAsync(new AtlasEnvelope
                    {
                        Type = MessageTypes.Auth,
                        Id = NewId(),
                        Data = JsonSerializer.SerializeToElement(new AuthFrame { Token = session.SessionToken }, AtlasJsonContext.Default.AuthFrame),
                    }, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped with the socket.
        }
        catch (Exception e) when (e is AtlasException or HttpRequestException)
        {
            // Renewal failed (desktop unreachable or device revoked): the receive loop sees the close and decides.
        }
    }

    private void Close(string reason)
    {
        if (_closed.TrySetResult(reason))
        {
            SetState(AtlasConnectionState.Closed);
            foreach (var pending in _pending.Values)
            {
                pending.Completion.TrySetException(new AtlasException(reason == ErrorCodes.Revoked ? ErrorCodes.Revoked : ErrorCodes.Unauthorized,
                    $"The connection to the desktop closed ({reason})."));
            }

            _events.Writer.TryComplete();
            foreach (var stream in _streams.Values)
            {
                stream.Writer.TryComplete(new AtlasException(reason == ErrorCodes.Revoked ? ErrorCodes.Revoked : ErrorCodes.Unauthorized,
                    $"The connection to the desktop closed ({reason})."));
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _lifetime.CancelAsync().ConfigureAwait(false);
        var socket = _socket;
        if (socket is { State: WebSocketState.Open })
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Best effort.
            }
        }

        socket?.Abort();
        if (_runTask is not null)
        {
            await _runTask.ConfigureAwait(false);
        }

        socket?.Dispose();
        Close("closed");
        _lifetime.Dispose();
        _sendLock.Dispose();
    }

    private sealed class PendingRequest(AtlasEnvelope request)
    {
        public AtlasEnvelope Request { get; } = request;

        public TaskCompletionSource<AtlasEnvelope> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
