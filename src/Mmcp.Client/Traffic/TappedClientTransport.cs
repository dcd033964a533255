using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Mmcp.Client.Diagnostics;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Traffic;

/// <summary>
/// Wraps a client transport so every message it carries is reported to the <see cref="TrafficTap"/>, and received
/// messages to an optional inline observer in the order they arrive (the SDK dispatches them concurrently afterwards).
/// </summary>
internal sealed class TappedClientTransport(IClientTransport inner, TrafficTap tap, string serverId, string connectionId, Action<JsonRpcMessage>? inlineObserver) : IClientTransport
{
    public string Name => inner.Name;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var transport = await inner.ConnectAsync(cancellationToken).ConfigureAwait(false);
        return new TappedTransport(transport, tap, serverId, connectionId, inlineObserver);
    }

    private sealed class TappedTransport : ITransport
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
            MessageReader = new TappedReader(inner.MessageReader, this);
        }

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

        private void Received(JsonRpcMessage message)
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
