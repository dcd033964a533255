using System.Diagnostics;
using System.Net.WebSockets;
using Atlas.Client.Protocol;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Realtime;

[Trait("Speed", "slow")]
public sealed class LoadTests
{
    private const int Clients = 1000;

    [Fact]
    public async Task ThousandAuthenticatedClients_ConnectAndAnswerWithinBounds()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var tokens = new List<string>(Clients);
        for (var i = 0; i < Clients; i++)
        {
            tokens.Add((await host.ProvisionAsync("load " + i)).Token);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();
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
        var elapsed = clock.Elapsed;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var perConnection = (GC.GetTotalMemory(forceFullCollection: true) - before) / Clients;
        TestContext.Current.SendDiagnosticMessage($"{Clients} clients in {elapsed.TotalSeconds:0.0} s; ~{perConnection / 1024.0:0.0} KiB managed heap per connection (client and server side)");

        // Bounds generous enough for a loaded 2-core CI machine, tight enough to catch a per-connection leak.
        Assert.True(elapsed < TimeSpan.FromMinutes(2), $"took {elapsed}");
        Assert.True(perConnection < 256 * 1024, $"{perConnection} bytes per connection");

        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }
    }
}
