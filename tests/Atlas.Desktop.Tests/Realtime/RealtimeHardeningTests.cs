using System.Globalization;
using System.Net.WebSockets;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Tests.Realtime;

/// <summary>Issue 8 (hardening) items of the realtime channel: the idempotency cache's memory and permissions, silent
/// sockets at the per-device limit, and request bursts.</summary>
public sealed class RealtimeHardeningTests
{
    private const long MiB = 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Before: whole answers were cached (512 KiB reads, 512 ids a device), unbounded in bytes.</summary>
    [Fact]
    [Trait("Hardening", "2")]
    public async Task IdempotencyCache_DeviceReadsManyLargeFiles_BytesStayUnderTheBounds()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Atlas:WebSocket:IdempotencyBytesPerDevice"] = (1 * MiB).ToString(CultureInfo.InvariantCulture),
            ["Atlas:WebSocket:IdempotencyBytes"] = (2 * MiB).ToString(CultureInfo.InvariantCulture),
        });
        var (deviceId, token) = await host.ProvisionAsync("reader");
        var root = DeviceRoot(host, deviceId);
        File.WriteAllBytes(Path.Combine(root, "large.bin"), RandomBytes(400 * 1024));
        File.WriteAllBytes(Path.Combine(root, "medium.bin"), RandomBytes(40 * 1024));
        var (socket, _) = await host.ConnectRawAsync(token);
        var cache = host.Get<IdempotencyCache>();

        for (var i = 0; i < 60; i++)
        {
            // Every answer is a fresh request id: large reads (never kept) and medium ones (kept until the bound).
            var path = i % 2 == 0 ? "large.bin" : "medium.bin";
            var reply = await RequestAsync(socket, $"read-{i}", $$"""{"op":"read","path":"{{path}}"}""");
            Assert.Equal(MessageTypes.FileResponse, reply.Type);
            Assert.InRange(cache.BytesFor(deviceId), 0, 1 * MiB);
        }

        Assert.InRange(cache.Bytes, 512 * 1024, 1 * MiB); // medium answers are kept, up to the device's bound

        // A large read is not kept, but its id is still known: the replay reads again and answers the same.
        var again = await RequestAsync(socket, "read-0", """{"op":"read","path":"large.bin"}""");
        Assert.Equal(MessageTypes.FileResponse, again.Type);
        Assert.Equal(400 * 1024, again.Data!.Value.GetProperty("size").GetInt64());
        var misuse = await RequestAsync(socket, "read-0", """{"op":"read","path":"medium.bin"}""");
        Assert.Equal(ErrorCodes.DuplicateRequest, misuse.Error!.Code);
    }

    /// <summary>Before: a revoked or idle device's answers stayed cached until its own next request.</summary>
    [Fact]
    [Trait("Hardening", "2")]
    public async Task IdempotencyCache_DeviceRevokedOrIdle_NothingOfItRemains()
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var host = await AtlasTestHost.StartAsync(time: time);
        var cache = host.Get<IdempotencyCache>();
        var (revokedId, revokedToken) = await host.ProvisionAsync("revoked");
        var (idleId, idleToken) = await host.ProvisionAsync("idle");
        foreach (var (deviceId, token) in new[] { (revokedId, revokedToken), (idleId, idleToken) })
        {
            File.WriteAllBytes(Path.Combine(DeviceRoot(host, deviceId), "a.txt"), RandomBytes(1000));
            var (socket, _) = await host.ConnectRawAsync(token);
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(MessageTypes.FileResponse, (await RequestAsync(socket, $"r{i}", """{"op":"read","path":"a.txt"}""")).Type);
            }

            Assert.True(cache.BytesFor(deviceId) > 0);
            socket.Abort();
            socket.Dispose();
        }

        await host.Get<DeviceService>().RevokeAsync(revokedId, deleteFiles: false, Ct);
        Assert.Equal((0, 0L), (cache.CountFor(revokedId), cache.BytesFor(revokedId)));
        Assert.True(cache.BytesFor(idleId) > 0);

        // No request of the idle device is needed: the cache's own timer drops what is older than its lifetime.
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal((0, 0L, 0L), (cache.CountFor(idleId), cache.BytesFor(idleId), cache.Bytes));
    }

    /// <summary>Guard: dropping a cached answer must not let a replayed write run a second time.</summary>
    [Fact]
    [Trait("Hardening", "2")]
    public async Task IdempotencyCache_AnswerOfAWriteNotKept_ReplayRefusedAndWriteNotRepeated()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:WebSocket:IdempotencyMaxAnswerBytes"] = "0" });
        var (deviceId, token) = await host.ProvisionAsync("writer");
        var file = Path.Combine(DeviceRoot(host, deviceId), "w.txt");
        var (socket, _) = await host.ConnectRawAsync(token);
        var write = $$"""{"op":"write","path":"w.txt","content":"{{Convert.ToBase64String("one"u8.ToArray())}}","overwrite":true}""";
        Assert.Equal(MessageTypes.FileResponse, (await RequestAsync(socket, "w-1", write)).Type);
        File.WriteAllText(file, "changed on the desktop");

        var replay = await RequestAsync(socket, "w-1", write);
        Assert.Equal(ErrorCodes.DuplicateRequest, replay.Error!.Code);
        Assert.Equal("changed on the desktop", File.ReadAllText(file));
        var read = """{"op":"read","path":"w.txt"}""";
        Assert.Equal(MessageTypes.FileResponse, (await RequestAsync(socket, "r-1", read)).Type);
        Assert.Equal(MessageTypes.FileResponse, (await RequestAsync(socket, "r-1", read)).Type);
    }

    /// <summary>Guard: bad cache or socket-replacement settings fail at startup with how to fix them.</summary>
    [Theory]
    [Trait("Hardening", "2")]
    [Trait("Hardening", "11")]
    [InlineData("Atlas:WebSocket:ReplaceSilentAfter", "00:00:10", "must be longer than Atlas:WebSocket:HeartbeatInterval")]
    [InlineData("Atlas:WebSocket:IdempotencyBytesPerDevice", "999999999", "must not exceed IdempotencyBytes")]
    [InlineData("Atlas:WebSocket:IdempotencyLifetime", "-00:01:00", "positive duration")]
    public void RealtimeSetting_Invalid_FailsAtStartupWithHowToFix(string key, string value, string hint)
    {
        var error = Assert.Throws<OptionsValidationException>(() => AtlasApp.Build([], new Dictionary<string, string?>
        {
            ["Atlas:DataDir"] = Path.Combine(Path.GetTempPath(), "atl-cfg-" + Guid.NewGuid().ToString("N")[..6]),
            [key] = value,
        }));
        Assert.Contains(hint, string.Join('\n', error.Failures), StringComparison.Ordinal);
    }

    /// <summary>Before: a replayed request id returned the file after files.read was removed.</summary>
    [Fact]
    [Trait("Hardening", "4")]
    public async Task ReplayedRequestId_PermissionRemovedSinceFirstAnswer_RefusedLikeAFreshRequest()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (deviceId, token) = await host.ProvisionAsync("replayer");
        File.WriteAllText(Path.Combine(DeviceRoot(host, deviceId), "secret.txt"), "secret");
        var (socket, _) = await host.ConnectRawAsync(token);
        const string Read = """{"op":"read","path":"secret.txt"}""";
        Assert.Equal(MessageTypes.FileResponse, (await RequestAsync(socket, "read-1", Read)).Type);

        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.Chat, Permissions.FilesWrite], null, Ct);

        var fresh = await RequestAsync(socket, "read-2", Read);
        var replay = await RequestAsync(socket, "read-1", Read);
        var (newSocket, _) = await host.ConnectRawAsync(token);
        var replayOnNewSocket = await RequestAsync(newSocket, "read-1", Read);
        foreach (var answer in new[] { fresh, replay, replayOnNewSocket })
        {
            Assert.Equal(MessageTypes.Error, answer.Type);
            Assert.Equal(ErrorCodes.Forbidden, answer.Error!.Code);
            Assert.Equal(fresh.Error!.Message, answer.Error.Message);
        }
    }

    /// <summary>Before: with half-open sockets at the limit, a new socket of the device got too_many_connections for ~60 s.</summary>
    [Fact]
    [Trait("Hardening", "11")]
    public async Task NewSocket_DeviceAtLimitWithASilentSocket_ReplacesTheSilentOneButNeverALiveOne()
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:WebSocket:MaxConnectionsPerDevice"] = "2" }, time);
        var (_, token) = await host.ProvisionAsync("flaky network");
        using var silent = (await host.ConnectRawAsync(token)).Socket; // never reads or answers again
        using var chatty = (await host.ConnectRawAsync(token)).Socket;
        Assert.NotNull(await AtlasTestHost.ReceiveTypeAsync(chatty, MessageTypes.StatusUpdate));

        time.Advance(TimeSpan.FromSeconds(31));
        await AtlasTestHost.SendTextAsync(chatty, """{"v":1,"type":"ping","id":"still-here"}""");
        Assert.Equal("still-here", (await AtlasTestHost.ReceiveTypeAsync(chatty, MessageTypes.Pong))!.Re);

        var (replacement, hello) = await host.ConnectRawAsync(token);
        Assert.Equal(MessageTypes.AuthSuccess, hello.Type);
        Assert.Null(await AtlasTestHost.ReceiveTypeAsync(silent, "never"));
        Assert.Equal(AtlasProtocol.CloseReplaced, (int)silent.CloseStatus!);

        // The two live sockets stay: a third one is refused, not swapped for a socket that is talking.
        var (refused, reply) = await host.ConnectRawAsync(token);
        Assert.Equal(ErrorCodes.TooManyConnections, reply.Error!.Code);
        Assert.Null(await AtlasTestHost.ReceiveAsync(refused));
        await AtlasTestHost.SendTextAsync(chatty, """{"v":1,"type":"ping","id":"p2"}""");
        Assert.Equal("p2", (await AtlasTestHost.ReceiveTypeAsync(chatty, MessageTypes.Pong))!.Re);
        await AtlasTestHost.SendTextAsync(replacement, """{"v":1,"type":"ping","id":"p3"}""");
        Assert.Equal("p3", (await AtlasTestHost.ReceiveTypeAsync(replacement, MessageTypes.Pong))!.Re);
        replacement.Dispose();
        refused.Dispose();
    }

    /// <summary>Before: 260+ queued answers aborted the socket without a close frame; rate_limited had no re.</summary>
    [Fact]
    [Trait("Hardening", "12")]
    public async Task RequestBurst_SixHundredFramesSentBeforeReading_EveryRequestAnsweredOnceAndSocketStaysOpen()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (deviceId, token) = await host.ProvisionAsync("bursty");
        File.WriteAllBytes(Path.Combine(DeviceRoot(host, deviceId), "page.bin"), RandomBytes(32 * 1024));
        var (socket, _) = await host.ConnectRawAsync(token);
        const int Burst = 600;

        // The whole burst goes out before the client reads a single answer (answers are larger than requests).
        for (var i = 0; i < Burst; i++)
        {
            await AtlasTestHost.SendTextAsync(socket, $$$"""{"v":1,"type":"file_request","id":"b{{{i}}}","data":{"op":"read","path":"page.bin"}}""");
        }

        var answered = new HashSet<string>(StringComparer.Ordinal);
        var (read, limited) = (0, 0);
        while (answered.Count < Burst)
        {
            var frame = await AtlasTestHost.ReceiveAsync(socket);
            Assert.NotNull(frame);
            if (frame.Type is MessageTypes.StatusUpdate or MessageTypes.Ping)
            {
                continue;
            }

            Assert.True(frame.Re is not null && answered.Add(frame.Re), $"unexpected or repeated answer {frame.Type} re={frame.Re}");
            if (frame.Type == MessageTypes.FileResponse)
            {
                read++;
            }
            else
            {
                Assert.Equal(ErrorCodes.RateLimited, frame.Error!.Code);
                Assert.True(frame.Error.RetryAfter >= 1);
                limited++;
            }
        }

        TestContext.Current.SendDiagnosticMessage($"{read} answered, {limited} rate_limited");
        Assert.True(read >= 500, $"only {read} of the documented 500-frame burst were served");
        // The socket is still open and served: a ping after the burst gets its pong. The burst spent the device's frame
        // budget, so the ping may itself be answered rate_limited; a client then waits retryAfter, as the protocol says.
        for (var attempt = 0; ; attempt++)
        {
            var id = $"after-burst-{attempt}";
            await AtlasTestHost.SendTextAsync(socket, $$"""{"v":1,"type":"ping","id":"{{id}}"}""");
            var answer = await AtlasTestHost.ReceiveAsync(socket);
            while (answer is not null && answer.Re != id)
            {
                answer = await AtlasTestHost.ReceiveAsync(socket);
            }

            Assert.True(answer is not null, $"the socket closed after the burst: {socket.CloseStatus} {socket.CloseStatusDescription}");
            if (answer.Type == MessageTypes.Pong)
            {
                break;
            }

            Assert.Equal(ErrorCodes.RateLimited, answer.Error?.Code);
            Assert.True(attempt < 10, "the device's frame budget never came back");
            await Task.Delay(TimeSpan.FromSeconds(answer.Error!.RetryAfter ?? 1), Ct);
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", Ct);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    private static async Task<AtlasEnvelope> RequestAsync(WebSocket socket, string id, string data)
    {
        await AtlasTestHost.SendTextAsync(socket, $$"""{"v":1,"type":"file_request","id":"{{id}}","data":{{data}}}""");
        while (true)
        {
            var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.FileResponse, MessageTypes.Error);
            Assert.NotNull(frame);
            if (frame.Re == id)
            {
                return frame;
            }
        }
    }

    private static string DeviceRoot(AtlasTestHost host, string deviceId) =>
        Directory.CreateDirectory(Path.Combine(host.DataDir, "files", deviceId)).FullName;

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
