using System.Net.WebSockets;
using Atlas.Client.Protocol;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Realtime;

[Trait("Speed", "slow")]
public sealed class LoadTests
{
    private const int Clients = 1000;

    /// <summary>A thousand authenticated clients connect at once, are all registered, and each gets the heartbeat and answers
    /// its own ping (how long that takes and what it costs in memory is bench/Atlas.Desktop.Bench's job).</summary>
    [Fact]
    [Trait("Issue13", "6")]
    public async Task ThousandAuthenticatedClients_AllConnect_AndEachGetsTheHeartbeatAndAnswersItsOwnPing()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var tokens = new List<string>(Clients);
        for (var i = 0; i < Clients; i++)
        {
            tokens.Add((await host.ProvisionAsync("load " + i)).Token);
        }

        var sockets = new ClientWebSocket[Clients];
        using var throttle = new SemaphoreSlim(32);
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async i =>
        {
            await throttle.WaitAsync(TestContext.Current.CancellationToken);
            try
            {
                var (socket, reply) = await host.ConnectRawAsync(tokens[i]);
                Assert.Equal(MessageTypes.AuthSuccess, reply.Type);
                Assert.NotNull(await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.StatusUpdate));
                sockets[i] = socket;
            }
            finally
            {
                throttle.Release();
            }
        }));
        Assert.Equal(Clients, host.Get<ConnectionRegistry>().Count);

        // Every one of them is live: a heartbeat reaches all, and each answers its own ping.
        host.Get<HeartbeatService>().Beat();
        await Task.WhenAll(sockets.Select(async (socket, i) =>
        {
            Assert.NotNull(await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Ping));
            await AtlasTestHost.SendTextAsync(socket, $$"""{"v":1,"type":"ping","id":"p{{i}}"}""");
            Assert.Equal("p" + i, (await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Pong))!.Re);
        }));

        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }
    }
}
