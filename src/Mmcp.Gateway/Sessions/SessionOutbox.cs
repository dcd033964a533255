using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Mmcp.Gateway.Diagnostics;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.Sessions;

/// <summary>
/// What the gateway pushes to a 2025-era session on its own (messages that answer no request of the client: log
/// messages, list changes, resource updates), held until the client opens the session's GET stream and then delivered
/// on it, in order. The SDK's transport drops a notification sent before that stream opened (a client need not open
/// one), so a message a server sent right after the session started was lost. The backlog is bounded by
/// <see cref="MaxMessages"/> and <see cref="MaxBytes"/>: past either, the oldest messages are dropped (the first drop
/// of a session is logged), so a client that never opens its GET stream costs at most that much. The backlog is
/// dropped when the session ends. Once the stream has opened, messages go straight to the SDK: the SDK takes one GET
/// stream per session and keeps no messages for a later one.
/// </summary>
internal sealed partial class SessionOutbox
{
    /// <summary>The most messages held for a session whose GET stream is not open.</summary>
    public const int MaxMessages = 256;

    /// <summary>The most bytes (the messages as JSON) held for a session whose GET stream is not open: 1 MiB.</summary>
    public const long MaxBytes = 1024 * 1024;

    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<JsonRpcMessage> MessageType = McpJsonUtilities.GetTypeInfo<JsonRpcMessage>(McpJsonUtilities.DefaultOptions);
    private readonly Lock _gate = new();
    private readonly Queue<(JsonRpcMessage Message, int Bytes)> _held = new();
    private readonly string _sessionId;
    private readonly ILogger _logger;
    private McpServer? _server;
    private State _state;
    private bool _streamOpened;
    private long _bytes;
    private long _dropped;

    public SessionOutbox(string sessionId, ILogger logger)
    {
        _sessionId = sessionId;
        _logger = logger;
    }

    private enum State
    {
        /// <summary>The GET stream is not open (or the session not running yet): messages are held.</summary>
        Holding,

        /// <summary>The stream opened; the held messages are being sent, and new ones queue behind them.</summary>
        Delivering,

        /// <summary>Messages go straight to the session.</summary>
        Open,

        /// <summary>The session ended: messages are dropped.</summary>
        Closed,
    }

    /// <summary>Gets how many messages are held.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>Gets how many bytes the held messages take as JSON.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Gets how many messages were dropped because the backlog was full.</summary>
    public long Dropped
    {
        get
        {
            lock (_gate)
            {
                return _dropped;
            }
        }
    }

    /// <summary>Binds the running session the messages go to.</summary>
    public void Attach(McpServer server)
    {
        lock (_gate)
        {
            _server = server;
        }

        TryDeliver();
    }

    /// <summary>Sends a message to the session's GET stream, or holds it until that stream opens.</summary>
    public Task SendAsync(JsonRpcMessage message)
    {
        McpServer server;
        lock (_gate)
        {
            switch (_state)
            {
                case State.Closed:
                    return Task.CompletedTask;
                case State.Open when _server is not null:
                    server = _server;
                    break;
                default:
                    Hold(message);
                    return Task.CompletedTask;
            }
        }

        return server.SendMessageAsync(message);
    }

    /// <summary>
    /// Watches the response body of the session's GET request: the SDK writes or flushes it first once it has taken
    /// the stream as the session's (inside its own lock, so the held messages are sent right after, through it). A GET
    /// the SDK refuses (an error status, not an event stream) opens nothing.
    /// </summary>
    public void Watch(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Body = new OpenedSignal(response.Body, response, this);
    }

    /// <summary>Drops the held messages: the session ended.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _state = State.Closed;
            _held.Clear();
            _bytes = 0;
        }
    }

    private void StreamOpened()
    {
        lock (_gate)
        {
            if (_streamOpened)
            {
                return;
            }

            _streamOpened = true;
        }

        TryDeliver();
    }

    private void Hold(JsonRpcMessage message)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, MessageType).Length;
        _held.Enqueue((message, bytes));
        _bytes += bytes;
        while (_held.Count > MaxMessages || _bytes > MaxBytes)
        {
            var (oldest, size) = _held.Dequeue();
            _bytes -= size;
            if (_dropped++ == 0)
            {
                Log.BacklogFull(_logger, _sessionId, MaxMessages, MaxBytes, (oldest as JsonRpcNotification)?.Method ?? oldest.GetType().Name);
            }

            GatewayTelemetry.BacklogDropped();
        }
    }

    private void TryDeliver()
    {
        int held;
        long dropped;
        lock (_gate)
        {
            if (_state != State.Holding || !_streamOpened || _server is null)
            {
                return;
            }

            held = _held.Count;
            dropped = _dropped;
            _state = held == 0 ? State.Open : State.Delivering;
        }

        if (held > 0)
        {
            Log.Delivering(_logger, held, _sessionId, dropped);

            // Not on the SDK's thread: it may hold its lock of the stream while it flushes (see Watch).
            ThreadPool.UnsafeQueueUserWorkItem(static o => _ = o.DeliverAsync(), this, preferLocal: false);
        }
    }

    private async Task DeliverAsync()
    {
        while (true)
        {
            McpServer server;
            JsonRpcMessage message;
            lock (_gate)
            {
                if (_state != State.Delivering || _server is null)
                {
                    return;
                }

                if (!_held.TryDequeue(out var next))
                {
                    _state = State.Open;
                    return;
                }

                _bytes -= next.Bytes;
                (message, server) = (next.Message, _server);
            }

            try
            {
                await server.SendMessageAsync(message).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or McpException)
            {
                Log.DeliveryFailed(_logger, _sessionId, ex);
            }
        }
    }

    /// <summary>A response body that says when it is first written or flushed.</summary>
    private sealed class OpenedSignal(Stream inner, HttpResponse response, SessionOutbox outbox) : Stream
    {
        private int _signalled;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
            inner.Flush();
            Signal();
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            Signal();
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Signal();
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Signal();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            Signal();
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private void Signal()
        {
            if (Volatile.Read(ref _signalled) == 0
                && response.StatusCode == StatusCodes.Status200OK
                && response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true
                && Interlocked.Exchange(ref _signalled, 1) == 0)
            {
                outbox.StreamOpened();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4321, LogLevel.Warning, "Session {SessionId} has not opened its GET stream and its backlog of messages the servers sent on their own is full ({MaxMessages} messages or {MaxBytes} bytes): dropping the oldest ({Method}), and from now on the oldest whenever it is full")]
        public static partial void BacklogFull(ILogger logger, string sessionId, int maxMessages, long maxBytes, string method);

        [LoggerMessage(4322, LogLevel.Debug, "Delivering {Count} messages held for session {SessionId} on its GET stream ({Dropped} older ones were dropped)")]
        public static partial void Delivering(ILogger logger, int count, string sessionId, long dropped);

        [LoggerMessage(4323, LogLevel.Debug, "Could not deliver a held message to session {SessionId}")]
        public static partial void DeliveryFailed(ILogger logger, string sessionId, Exception exception);
    }
}
