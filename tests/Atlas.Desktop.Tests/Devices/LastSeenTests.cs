using System.Net;
using Atlas.Client.Protocol;
using Atlas.Desktop.Storage;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Devices;

/// <summary>Regression: a device's "last seen" moved only when a session was created, so a device that used REST or its
/// socket for minutes still showed its session start. Authenticated activity now moves it, at most once a minute per
/// device (no SQLite write per request).</summary>
public sealed class LastSeenTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LastSeen_AfterRestAndSocketActivity_MovesAtMostOncePerMinute()
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var host = await AtlasTestHost.StartAsync(time: time);
        using var client = await host.PairClientAsync();
        var id = client.Credentials.DeviceId;
        using (var first = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/list"), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var sessionStart = await LastSeenAsync(host, id);
        Assert.Equal(time.GetUtcNow(), sessionStart, TimeSpan.FromMilliseconds(1));

        // REST activity two minutes later moves it.
        time.Advance(TimeSpan.FromMinutes(2));
        using (var rest = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/list"), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
        }

        var afterRest = time.GetUtcNow();
        Assert.Equal(afterRest, await LastSeenAsync(host, id), TimeSpan.FromMilliseconds(1));

        // Within the minute: no write.
        time.Advance(TimeSpan.FromSeconds(30));
        using (var again = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/list"), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        Assert.Equal(afterRest, await LastSeenAsync(host, id), TimeSpan.FromMilliseconds(1));

        // A frame on the socket a minute after the last write moves it again.
        var token = (await client.GetSessionAsync(Ct)).SessionToken;
        var (socket, _) = await host.ConnectRawAsync(token);
        using (socket)
        {
            time.Advance(TimeSpan.FromSeconds(31));
            await AtlasTestHost.SendTextAsync(socket, """{"v":1,"type":"ping","id":"seen"}""");
            Assert.Equal("seen", (await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Pong))!.Re);
            Assert.Equal(time.GetUtcNow(), await LastSeenAsync(host, id), TimeSpan.FromMilliseconds(1));
        }
    }

    private static async Task<DateTimeOffset> LastSeenAsync(AtlasTestHost host, string id) =>
        (await host.Get<IDeviceStore>().GetAsync(id, Ct))!.LastSeenAt!.Value;
}
