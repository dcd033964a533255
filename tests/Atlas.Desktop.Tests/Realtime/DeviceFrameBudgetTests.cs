using System.Net.WebSockets;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Tests.Realtime;

/// <summary>The documented frame rate is per device: all of a device's sockets draw on one budget.</summary>
public sealed class DeviceFrameBudgetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Regression: the frame budget was per socket, so four sockets of one device got four times the documented rate.</summary>
    [Fact]
    [Trait("Hardening", "5")]
    public async Task Frames_OverFourSocketsOfOneDevice_ShareTheDevicesBudget_RestRefusedWithRateLimited()
    {
        var time = AtlasTestHost.NewFakeTime(); // the clock stands still: no frame is earned back during the test
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:WebSocket:MaxFramesPerSecond"] = "5" }, time);
        var (_, token) = await host.ProvisionAsync("frames");
        var sockets = new List<ClientWebSocket>();
        for (var i = 0; i < 4; i++)
        {
            sockets.Add((await host.ConnectRawAsync(token)).Socket);
        }

        var answers = await Task.WhenAll(sockets.Select(async (socket, s) =>
        {
            var reading = Task.Run(async () =>
            {
                var frames = new List<AtlasEnvelope>();
                while (frames.Count < 20)
                {
                    var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Pong, MessageTypes.Error);
                    frames.Add(frame!);
                }

                return frames;
            }, Ct);
            for (var i = 0; i < 20; i++)
            {
                await AtlasTestHost.SendAsync(socket, new AtlasEnvelope { Type = MessageTypes.Ping, Id = $"p{s}-{i}" });
            }

            return await reading;
        }));

        var all = answers.SelectMany(a => a).ToList();
        Assert.Equal(50, all.Count(f => f.Type == MessageTypes.Pong)); // 5 frames/s with a 10 s burst, for the device
        Assert.All(all.Where(f => f.Type == MessageTypes.Error), f => Assert.Equal((ErrorCodes.RateLimited, 1), (f.Error!.Code, f.Error.RetryAfter)));
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
    }

    /// <summary>Revoking a device drops its frame bucket at once: nothing is kept for a device that can never come back.</summary>
    [Fact]
    [Trait("Issue8", "frame-budget")]
    public async Task Revoke_DeviceThatSentFrames_ItsBucketIsGone()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (deviceId, token) = await host.ProvisionAsync("budget");
        var (socket, _) = await host.ConnectRawAsync(token);
        using var _socket = socket;
        await AtlasTestHost.SendAsync(socket, new AtlasEnvelope { Type = MessageTypes.Ping, Id = "p" });
        Assert.NotNull(await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Pong));
        var budget = host.Get<DeviceFrameBudget>();
        Assert.True(budget.Holds(deviceId));

        await host.Get<DeviceService>().RevokeAsync(deviceId, deleteFiles: false, Ct);

        Assert.False(budget.Holds(deviceId));
    }

    /// <summary>Buckets of idle devices do not pile up: once a bucket has refilled (the burst window passed without a
    /// frame) the next sweep drops it, so a thousand devices that came and went leave only the one active now.</summary>
    [Fact]
    [Trait("Issue8", "frame-budget")]
    public void TryTake_ManyDevicesThenIdleForTheBurstWindow_KeepsOnlyActiveBuckets()
    {
        var time = AtlasTestHost.NewFakeTime();
        var options = Options.Create(new AtlasOptions());
        options.Value.WebSocket.MaxFramesPerSecond = 5;
        var budget = new DeviceFrameBudget(options, new AtlasTime(time), new DeviceLifetimes());
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(budget.TryTake("device-" + i));
        }

        Assert.Equal(1000, budget.Count);
        time.Advance(TimeSpan.FromSeconds(5));
        for (var i = 0; i < 50; i++)
        {
            budget.TryTake("busy"); // drains the busy device's burst (50 frames at 5/s): half refilled 5 s later
        }

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(budget.TryTake("newcomer"));

        Assert.Equal(2, budget.Count); // the newcomer and the busy device, still refilling
        Assert.True(budget.Holds("busy"));
        Assert.False(budget.Holds("device-0"));
    }

    /// <summary>Dropping a refilled bucket changes nothing for its device: after the sweep it still gets its full burst
    /// and no more.</summary>
    [Fact]
    [Trait("Issue8", "frame-budget")]
    public void TryTake_AfterItsBucketWasSwept_DeviceGetsExactlyTheBurst()
    {
        var time = AtlasTestHost.NewFakeTime();
        var options = Options.Create(new AtlasOptions());
        options.Value.WebSocket.MaxFramesPerSecond = 2;
        var budget = new DeviceFrameBudget(options, new AtlasTime(time), new DeviceLifetimes());
        Assert.True(budget.TryTake("phone"));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(budget.TryTake("other")); // sweeps the phone's refilled bucket
        Assert.False(budget.Holds("phone"));

        var taken = Enumerable.Range(0, 30).Count(_ => budget.TryTake("phone"));

        Assert.Equal(20, taken);
    }
}
