using System.Net.WebSockets;
using Atlas.Client.Protocol;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Storage;

namespace Atlas.Desktop.Tests.Realtime;

public sealed class DeviceConnectionTests
{
    /// <summary>Before: answers went into a 256-frame queue with TryWrite, and a peer slower than the burst was aborted.</summary>
    [Fact]
    [Trait("Hardening", "12")]
    public async Task WaitForRoomAsync_PeerReadsSlowerThanItSends_ReceiveLoopWaitsAndNothingIsAborted()
    {
        var peer = new StalledPeer();
        var now = DateTimeOffset.UtcNow;
        var device = new DeviceRecord("dev_t", "t", "test", DeviceRecord.Active, [], "000000", [Permissions.FilesRead], 0, now, now, null, null);
        using var connection = new DeviceConnection(peer, device, now.AddHours(1), queueLength: 8, TimeProvider.System);
        var sendLoop = connection.RunSendLoopAsync();

        // What the receive loop does for a burst: wait for room, then answer the request.
        var answered = 0;
        Task room;
        while ((room = connection.WaitForRoomAsync()).IsCompleted)
        {
            Assert.True(connection.Send(new AtlasEnvelope { Type = MessageTypes.Pong, Re = "r" + answered }));
            answered++;
        }

        Assert.InRange(answered, 4, 5); // half the queue (plus the frame the stalled send loop holds)
        peer.Release();
        await room.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        connection.Close((int)WebSocketCloseStatus.NormalClosure, "bye");
        await sendLoop.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        Assert.Equal((answered, false), (peer.Sent, peer.Aborted));
    }

    /// <summary>A peer whose first send blocks until released (a full TCP window).</summary>
    private sealed class StalledPeer : WebSocket
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Sent { get; private set; }

        public bool Aborted { get; private set; }

        public override WebSocketCloseStatus? CloseStatus => null;

        public override string? CloseStatusDescription => null;

        public override WebSocketState State => WebSocketState.Open;

        public override string? SubProtocol => null;

        public void Release() => _released.TrySetResult();

        public override void Abort() => Aborted = true;

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Dispose()
        {
        }

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public override async Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            await _released.Task.WaitAsync(cancellationToken);
            Sent++;
        }
    }
}
