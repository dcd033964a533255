using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Status;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Realtime;

/// <summary><c>/ws</c>: accept, require an <c>auth</c> frame within the timeout, register, then read frames until the
/// socket closes. Frames are size-limited, depth-limited and rate-limited.</summary>
internal sealed class WebSocketEndpoint
{
    private const int AuthFrameLimit = 8 * 1024;
    private const int MaxFrameDepth = 32; // docs/atlas-protocol.md: "nesting depth ≤ 32", the envelope object included

    // Frames are parsed with this context, not AtlasJsonContext.Default, whose depth limit is System.Text.Json's 64.
    private static readonly AtlasJsonContext Frames = new(new JsonSerializerOptions(AtlasJsonContext.Default.Options) { MaxDepth = MaxFrameDepth });
    private readonly SessionService _sessions;
    private readonly ConnectionRegistry _registry;
    private readonly MessageRouter _router;
    private readonly StatusService _status;
    private readonly DeviceFrameBudget _frames;
    private readonly RealtimeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebSocketEndpoint> _logger;

    public WebSocketEndpoint(SessionService sessions, ConnectionRegistry registry, MessageRouter router, StatusService status,
        DeviceFrameBudget frames, IOptions<AtlasOptions> options, AtlasTime time, ILogger<WebSocketEndpoint> logger)
    {
        _sessions = sessions;
        _registry = registry;
        _router = router;
        _status = status;
        _frames = frames;
        _options = options.Value.WebSocket;
        _time = time.Provider;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ApiErrors.WriteAsync(context, ErrorCodes.BadRequest, "/ws expects a WebSocket upgrade.").ConfigureAwait(false);
            return;
        }

        using var waiting = context.RequestServices.GetRequiredService<Network.UnauthenticatedSocketGate>().TryEnter(context.Connection.RemoteIpAddress);
        if (waiting is null)
        {
            await ApiErrors.WriteAsync(context, ErrorCodes.TooManyConnections,
                "Too many connections are waiting to authenticate; try again in a moment.", retryAfter: 1).ConfigureAwait(false);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            DangerousEnableCompression = false, // secrets travel on this socket (CRIME/BREACH)
            KeepAliveInterval = _options.HeartbeatInterval,
            KeepAliveTimeout = _options.HeartbeatInterval * _options.HeartbeatMisses,
        }).ConfigureAwait(false);

        var session = await AuthenticateAsync(socket, context).ConfigureAwait(false);
        waiting.Dispose();
        if (session is null)
        {
            return;
        }

        using var connection = new DeviceConnection(socket, session.Device, session.ExpiresAt, _options.SendQueueLength, _time);
        if (!_registry.TryAdd(connection, _options.MaxConnectionsPerDevice, _options.MaxConnections, _options.ReplaceSilentAfter, out var replaced))
        {
            await RefuseAsync(socket, ErrorCodes.TooManyConnections,
                $"This device already has {_options.MaxConnectionsPerDevice} live connections; close one first.",
                AtlasProtocol.CloseTooManyConnections).ConfigureAwait(false);
            return;
        }

        if (replaced is not null)
        {
            // A half-open socket (a phone that changed networks) must not lock its device out until the heartbeat
            // reaps it: the newest socket takes the place of the oldest silent one.
            Log.SocketReplaced(_logger, replaced.DeviceId, replaced.Silence.TotalSeconds);
            replaced.Close(AtlasProtocol.CloseReplaced, "replaced");
        }

        var sendLoop = connection.RunSendLoopAsync();
        try
        {
            connection.Send(AuthSuccess(session.Device, session.ExpiresAt, session.AuthId, _time, _options));
            connection.Send(new AtlasEnvelope
            {
                Type = MessageTypes.StatusUpdate,
                Data = await _status.BuildAsync(session.Device, context.RequestAborted).ConfigureAwait(false),
            });
            await ReceiveLoopAsync(socket, connection, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.SocketFailed(_logger, e, connection.DeviceId);
        }
        finally
        {
            _registry.Remove(connection);
            connection.Close((int)WebSocketCloseStatus.NormalClosure, "bye");
            await sendLoop.ConfigureAwait(false);
            Log.SocketClosed(_logger, connection.DeviceId, socket.CloseStatusDescription ?? socket.State.ToString());
        }
    }

    private async Task<PendingSession?> AuthenticateAsync(WebSocket socket, HttpContext context)
    {
        var aborted = context.RequestAborted;
        // Cancelling a WebSocket receive aborts the socket, so the timeout races the read instead: the socket stays
        // usable for the auth_failed frame and a clean close.
        var buffer = new ArrayBufferWriter<byte>(1024);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var read = ReadFrameAsync(socket, buffer, AuthFrameLimit, stop.Token);
        var timeout = Task.Delay(_options.AuthTimeout, _time, stop.Token);
        FrameResult frame;
        try
        {
            if (await Task.WhenAny(read, timeout).ConfigureAwait(false) != read)
            {
                await RefuseAsync(socket, ErrorCodes.AuthTimeout,
                    $"No auth frame within {_options.AuthTimeout.TotalSeconds:0} seconds; send {{\"v\":1,\"type\":\"auth\",\"id\":\"…\",\"data\":{{\"token\":\"…\"}}}} first.",
                    AtlasProtocol.CloseAuthTimeout, read).ConfigureAwait(false);
                return null;
            }

            frame = await read.ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            await AwaitPeerCloseAsync(socket, e, aborted).ConfigureAwait(false);
            return null;
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }

        if (frame != FrameResult.Text)
        {
            if (frame != FrameResult.Closed)
            {
                await RefuseAsync(socket, frame == FrameResult.TooLarge ? ErrorCodes.TooLarge : ErrorCodes.BadFrame,
                    "The first frame must be a small JSON auth frame.", AtlasProtocol.CloseAuthFailed).ConfigureAwait(false);
            }

            return null;
        }

        AtlasEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(JsonBodies.Of(buffer.WrittenMemory).Span, Frames.AtlasEnvelope);
        }
        catch (JsonException)
        {
            envelope = null;
        }

        if (envelope is not { Type: MessageTypes.Auth })
        {
            AtlasTelemetry.AuthFailures.Add(1);
            await RefuseAsync(socket, ErrorCodes.Unauthorized, "The first frame must be an auth frame with a session token.",
                AtlasProtocol.CloseAuthFailed).ConfigureAwait(false);
            return null;
        }

        if (envelope.V != AtlasProtocol.Version)
        {
            await RefuseAsync(socket, ErrorCodes.UnsupportedVersion, $"This desktop speaks protocol version {AtlasProtocol.Version}.",
                AtlasProtocol.CloseAuthFailed).ConfigureAwait(false);
            return null;
        }

        try
        {
            var token = envelope.Data is { ValueKind: JsonValueKind.Object } data
                ? data.Deserialize(AtlasJsonContext.Default.AuthFrame)?.Token
                : null;
            var session = await _sessions.ValidateAsync(token, aborted).ConfigureAwait(false);

            // "This desktop" acts only from this computer, with the admin cookie and a loopback origin of the upgrade.
            if (Admin.DesktopChat.Is(session.Device.Id) && Admin.DesktopChat.Refusal(context) is { } refusal)
            {
                throw new AtlasException(refusal.Code, refusal.Message);
            }

            await _sessions.SeenAsync(session.Device.Id, context.Connection.RemoteIpAddress?.ToString(), aborted).ConfigureAwait(false);
            return new PendingSession(session.Device, session.ExpiresAt, envelope.Id);
        }
        catch (Exception e) when (e is AtlasException or JsonException)
        {
            AtlasTelemetry.AuthFailures.Add(1);
            var code = e is AtlasException atlas ? atlas.Code : ErrorCodes.BadRequest;
            await RefuseAsync(socket, code, e.Message,
                code == ErrorCodes.Revoked ? AtlasProtocol.CloseRevoked : AtlasProtocol.CloseAuthFailed).ConfigureAwait(false);
            return null;
        }
    }

    private async Task ReceiveLoopAsync(WebSocket socket, DeviceConnection connection, CancellationToken requestAborted)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            buffer.ResetWrittenCount();
            FrameResult frame;
            try
            {
                // Back-pressure: a device that sends faster than it reads waits in TCP, never overflows the queue.
                var room = connection.WaitForRoomAsync();
                if (!room.IsCompleted)
                {
                    await room.ConfigureAwait(false);

                    // The queue drained while the desktop held back reading: the device is reading its answers, so the
                    // time spent here is the desktop's back-pressure, not the device's silence (which the heartbeat and
                    // the socket replacement would otherwise take for a half-open connection).
                    connection.MarkReceived();
                }

                frame = await ReadFrameAsync(socket, buffer, _options.MaxFrameBytes, connection.Closing).ConfigureAwait(false);
                if (frame != FrameResult.Closed)
                {
                    await _sessions.SeenAsync(connection.DeviceId, null, connection.Closing).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                await AwaitPeerCloseAsync(socket, e, requestAborted).ConfigureAwait(false);
                return;
            }

            connection.MarkReceived();
            AtlasTelemetry.Frames.Add(1);
            switch (frame)
            {
                case FrameResult.Closed:
                    return;
                case FrameResult.TooLarge:
                    connection.Close((int)WebSocketCloseStatus.MessageTooBig, ErrorCodes.TooLarge, new AtlasEnvelope
                    {
                        Type = MessageTypes.Error,
                        Error = new AtlasError { Code = ErrorCodes.TooLarge, Message = $"Frames are limited to {_options.MaxFrameBytes} bytes; use the REST upload for large files." },
                    });
                    return;
                case FrameResult.Binary:
                    connection.SendError(null, ErrorCodes.BadFrame, "Binary frames are not part of the protocol; send JSON text frames.");
                    continue;
            }

            AtlasEnvelope? envelope;
            try
            {
                envelope = JsonSerializer.Deserialize(JsonBodies.Of(buffer.WrittenMemory).Span, Frames.AtlasEnvelope);
            }
            catch (JsonException)
            {
                envelope = null;
            }

            // One frame budget per device, over all its sockets together.
            if (!_frames.TryTake(connection.DeviceId))
            {
                // Answered like any request (with its id), so every request gets exactly one answer.
                connection.Send(new AtlasEnvelope
                {
                    Type = MessageTypes.Error,
                    Re = envelope?.Id,
                    Error = new AtlasError { Code = ErrorCodes.RateLimited, Message = "Too many frames; slow down.", RetryAfter = 1 },
                });
                continue;
            }

            if (envelope is null || string.IsNullOrEmpty(envelope.Type))
            {
                connection.SendError(null, ErrorCodes.BadFrame, "The frame is not a protocol envelope: {\"v\":1,\"type\":…,\"id\":…,\"data\":…}.");
                continue;
            }

            if (envelope.V != AtlasProtocol.Version)
            {
                connection.SendError(envelope.Id, ErrorCodes.UnsupportedVersion, $"This desktop speaks protocol version {AtlasProtocol.Version}.");
                continue;
            }

            await _router.HandleAsync(connection, envelope).ConfigureAwait(false);
        }
    }

    /// <summary>The <c>auth_success</c> frame, for the first auth and for re-authentication on a live socket.</summary>
    internal static AtlasEnvelope AuthSuccess(Storage.DeviceRecord device, DateTimeOffset expiresAt, string? re, TimeProvider time,
        RealtimeOptions options) => new()
        {
            Type = MessageTypes.AuthSuccess,
            Re = re,
            Data = JsonSerializer.SerializeToElement(new AuthSuccessFrame
            {
                DeviceId = device.Id,
                SessionExpiresAt = expiresAt,
                Permissions = [.. device.Permissions],
                ServerTime = time.GetUtcNow(),
                HeartbeatSeconds = (int)Math.Ceiling(options.HeartbeatInterval.TotalSeconds),
            }, AtlasJsonContext.Default.AuthSuccessFrame),
        };

    private static async Task<FrameResult> ReadFrameAsync(WebSocket socket, ArrayBufferWriter<byte> buffer, int limit,
        CancellationToken cancellationToken)
    {
        var chunk = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(chunk.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return FrameResult.Closed;
                }

                if (buffer.WrittenCount + result.Count > limit)
                {
                    return FrameResult.TooLarge;
                }

                buffer.Write(chunk.AsSpan(0, result.Count));
                if (result.EndOfMessage)
                {
                    return result.MessageType == WebSocketMessageType.Binary ? FrameResult.Binary : FrameResult.Text;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static async Task RefuseAsync(WebSocket socket, string code, string message, int closeCode, Task<FrameResult>? pendingRead = null)
    {
        var frame = new AtlasEnvelope
        {
            Type = MessageTypes.AuthFailed,
            Error = new AtlasError { Code = code, Message = message },
        };
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(frame, AtlasJsonContext.Default.AtlasEnvelope),
                WebSocketMessageType.Text, endOfMessage: true, timeout.Token).ConfigureAwait(false);
            await socket.CloseOutputAsync((WebSocketCloseStatus)closeCode, code, timeout.Token).ConfigureAwait(false);
            if (pendingRead is not null)
            {
                // Give the peer a moment to answer the close frame, so it reads ours before the connection ends.
                await Task.WhenAny(pendingRead, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The peer is gone already.
        }
    }

    /// <summary>When the socket itself failed the connection on a protocol violation (invalid UTF-8 in a text frame: it
    /// sends close 1007, then aborts), gives the peer up to two seconds to read that close frame and hang up. Ending the
    /// request at once closes the connection while the peer is answering the close, and the reset that follows can make
    /// the peer lose our close frame, so it would see no close code (before authentication it always did).</summary>
    private static async Task AwaitPeerCloseAsync(WebSocket socket, Exception failure, CancellationToken peerGone)
    {
        if (failure is not WebSocketException || socket.State != WebSocketState.Aborted || peerGone.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2), peerGone).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The peer hung up.
        }
    }

    private enum FrameResult
    {
        Text,
        Binary,
        Closed,
        TooLarge,
    }

    private sealed record PendingSession(Storage.DeviceRecord Device, DateTimeOffset ExpiresAt, string? AuthId);
}
