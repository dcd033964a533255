using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Mmcp.Client.Connectors;
using Mmcp.Client.Diagnostics;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Traffic;

/// <summary>
/// Wraps a client transport so every message it carries is reported to the <see cref="TrafficTap"/>, and received
/// messages to an optional inline observer in the order they arrive (the SDK dispatches them concurrently afterwards).
/// Over the hub's own stdio transport both happen on its reading thread, before the client reads the message, and
/// <see cref="Requests"/> offers requests whose answers that thread matches (<c>PipeClientTransport.Session.RequestAsync</c>).
/// </summary>
internal sealed class TappedClientTransport(IClientTransport inner, TrafficTap tap, string serverId, string connectionId, Action<JsonRpcMessage>? inlineObserver) : IClientTransport
{
    private TappedTransport? _connected;

    public string Name => inner.Name;

    /// <summary>Gets the way to send a request answered by the transport's reader, once connected over the hub's own stdio transport; otherwise <see langword="null"/>.</summary>
    public IReaderRequests? Requests => _connected is { Direct: not null } connected ? connected : null;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var transport = await inner.ConnectAsync(cancellationToken).ConfigureAwait(false);
        var tapped = new TappedTransport(transport, tap, serverId, connectionId, inlineObserver);
        _connected = tapped;
        return tapped;
    }

    private sealed class TappedTransport : ITransport, PipeClientTransport.IObserver, IReaderRequests
    {
        private readonly ITransport _inner;
        private readonly TrafficTap _tap;
        private readonly string _serverId;
        private readonly string _connectionId;
        private readonly Action<JsonRpcMessage>? _inlineObserver;

        public TappedTransport(ITransport inner, TrafficTap tap, string serverId, string connectionId, Action<JsonRpcMessage>? inlineObserver)
        {
            _inlineObserver = inlineObserver;
            _inner = inner;
            _tap = tap;
            _serverId = serverId;
            _connectionId = connectionId;
            if (inner is PipeClientTransport.Session session)
            {
                Direct = session;
                session.Observer = this;
                MessageReader = inner.MessageReader;
            }
            else
            {
                MessageReader = new TappedReader(inner.MessageReader, this);
            }
        }

        public PipeClientTransport.Session? Direct { get; }

        public bool ObservesAnswers => _tap.IsActive;

        public string? SessionId => _inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader { get; }

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
        {
            if (_tap.IsActive)
            {
                _tap.Publish(_serverId, _connectionId, TrafficDirection.ToServer, message);
            }

            return LatencyProbe.Enabled ? SendTimedAsync(message, cancellationToken) : _inner.SendMessageAsync(message, cancellationToken);
        }

        private async Task SendTimedAsync(JsonRpcMessage message, CancellationToken cancellationToken)
        {
            await _inner.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
            LatencyProbe.Mark(LatencyMark.UpstreamWritten);
        }

        public ValueTask DisposeAsync() => _inner.DisposeAsync();

        public Task<byte[]> RequestAsync(string id, ReadOnlyMemory<byte> json, Func<JsonRpcRequest> typed, CancellationToken cancellationToken) =>
            _tap.IsActive
                ? Direct!.RequestAsync(typed(), SendMessageAsync, cancellationToken) // the watcher sees the request as a message
                : Direct!.RequestAsync(id, json, cancellationToken);

        public void Received(JsonRpcMessage message)
        {
            _inlineObserver?.Invoke(message);
            if (_tap.IsActive)
            {
                _tap.Publish(_serverId, _connectionId, TrafficDirection.FromServer, message);
            }
        }

        private sealed class TappedReader(ChannelReader<JsonRpcMessage> inner, TappedTransport owner) : ChannelReader<JsonRpcMessage>
        {
            public override Task Completion => inner.Completion;

            public override bool CanCount => inner.CanCount;

            public override bool CanPeek => inner.CanPeek;

            public override int Count => inner.Count;

            public override bool TryRead([MaybeNullWhen(false)] out JsonRpcMessage item)
            {
                if (inner.TryRead(out item))
                {
                    owner.Received(item);
                    return true;
                }

                return false;
            }

            public override bool TryPeek([MaybeNullWhen(false)] out JsonRpcMessage item) => inner.TryPeek(out item);

            public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => inner.WaitToReadAsync(cancellationToken);

            public override async ValueTask<JsonRpcMessage> ReadAsync(CancellationToken cancellationToken = default)
            {
                var item = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
                owner.Received(item);
                return item;
            }
        }
    }
}

/// <summary>Requests whose answers the transport's reading thread matches and hands over as they were written.</summary>
internal interface IReaderRequests
{
    /// <summary>
    /// Sends a request with a string id of the caller's own, written as JSON already (one line without its newline),
    /// and waits for its answer's line. While the traffic is watched, the request goes as the message
    /// <paramref name="typed"/> builds, so the watcher sees it as every other.
    /// </summary>
    /// <param name="id">The request's id.</param>
    /// <param name="json">The request as JSON.</param>
    /// <param name="typed">The same request as a message.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The answer's line in UTF-8: a JSON-RPC response or error.</returns>
    Task<byte[]> RequestAsync(string id, ReadOnlyMemory<byte> json, Func<JsonRpcRequest> typed, CancellationToken cancellationToken);
}
