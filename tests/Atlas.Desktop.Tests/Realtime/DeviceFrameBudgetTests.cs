using System.Net.WebSockets;
using Atlas.Client.Protocol;
using Atlas.Desktop.Tests.Infrastructure;

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
}
