using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Media;

/// <summary>A media request runs once per request id on both faces: a resend gets the first answer, another request
/// under the same id is <c>duplicate_request</c>, and a resend whose first answer is gone runs again.</summary>
[Trait("Speed", "slow")]
public sealed class MediaIdempotencyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Regression (trial F2): REST ignored its Idempotency-Key, so a resend ran the job again (a new jobId; with
    /// bypassCache the tools ran twice) and the key with another body ran that other request.</summary>
    [Fact]
    public async Task Rest_SameIdempotencyKey_AnsweredOnce_AnotherBodyIsDuplicateRequest_AndAFileNeedsFilesReadStill()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var first = Convert.ToBase64String(MediaProcessingTests.QrPng("one"));
        var other = Convert.ToBase64String(MediaProcessingTests.QrPng("two"));
        var body = $$"""{"task":"analyze","content":"{{first}}","bypassCache":true}""";

        var answer = await ProcessAsync(client, "k-1", body);
        var again = await ProcessAsync(client, "k-1", body);
        using var misuse = await PostAsync(client, "k-1", $$"""{"task":"analyze","content":"{{other}}"}""");

        Assert.Equal(answer.GetProperty("jobId").GetString(), again.GetProperty("jobId").GetString());
        Assert.Equal(HttpStatusCode.Conflict, misuse.StatusCode);
        Assert.Equal(ErrorCodes.DuplicateRequest, await AtlasTestHost.ErrorCodeAsync(misuse));

        // A kept answer about a file of the device's space is not given once files.read is gone.
        using (var write = new HttpRequestMessage(HttpMethod.Post, "files/write?path=qr.png") { Content = new ByteArrayContent(MediaProcessingTests.QrPng("three")) })
        using (var written = await client.SendAsync(write, Ct))
        {
            Assert.True(written.IsSuccessStatusCode);
        }

        await ProcessAsync(client, "k-2", """{"task":"analyze","path":"qr.png"}""");
        var device = await host.Get<DeviceService>().GetAsync(client.Credentials.DeviceId, Ct);
        await host.Get<DeviceService>().SetPermissionsAsync(device.Id, [.. device.Permissions.Where(p => p != Permissions.FilesRead)], null, Ct);
        client.InvalidateSession();
        using var replay = await PostAsync(client, "k-2", """{"task":"analyze","path":"qr.png"}""");
        Assert.Equal(ErrorCodes.Forbidden, await AtlasTestHost.ErrorCodeAsync(replay));
    }

    /// <summary>Regression (trial F3): a socket's media answer too large to keep (frames inline, over
    /// IdempotencyMaxAnswerBytes) made the resend of its id — what a client does after a dropped connection — a
    /// duplicate_request "already handled" instead of the result.</summary>
    [Fact]
    public async Task WebSocket_ResendAfterAnAnswerTooLargeToKeep_IsAnsweredAgain()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (deviceId, token) = await host.ProvisionAsync("Phone");
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.MediaProcess], null, Ct); // no files.write: frames inline
        var video = await MediaProcessingTests.GenerateVideoAsync();
        var data = JsonSerializer.SerializeToElement(new JsonObject
        {
            ["task"] = "frames",
            ["content"] = Convert.ToBase64String(video),
            ["fileName"] = "clip.mp4",
            ["frames"] = new JsonObject { ["mode"] = "interval", ["intervalSeconds"] = 0.5 },
        });

        var answers = new List<AtlasEnvelope>();
        for (var socketNumber = 0; socketNumber < 2; socketNumber++)
        {
            var (socket, _) = await host.ConnectRawAsync(token);
            using var _socket = socket;
            await AtlasTestHost.SendAsync(socket, new AtlasEnvelope { Type = MessageTypes.MediaProcess, Id = "m-1", Data = data });
            answers.Add(await FinalAsync(socket, "m-1"));
        }

        Assert.All(answers, a => Assert.True(a.Type == MessageTypes.MediaResult, a.Error?.Message));
        Assert.True(answers[0].Data!.Value.GetRawText().Length > 64 * 1024, "the answer is larger than the idempotency cache keeps");
        Assert.Equal(answers[0].Data!.Value.GetProperty("inlineFiles").GetArrayLength(), answers[1].Data!.Value.GetProperty("inlineFiles").GetArrayLength());
    }

    /// <summary>Regression (trial F9): a phone that changed networks resends on a new socket while its old socket is
    /// half-open and the first run still going; the resend waits for that run. When the heartbeat then reaped the old
    /// socket, the run was cancelled with it and the resend got internal_error instead of the result.</summary>
    [Fact]
    public async Task WebSocket_ResendWaitingForTheRunOfAReapedSocket_GetsTheResult()
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var chat = await ChatHost.StartAsync(time: time);
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        chat.Fake.Enqueue(FakeReply.Stream().Comment().Role().Signal(reached).Gate(gate).Delta("First.").Finish("stop").Usage(10, 3, 0.0001m).Done());
        chat.Fake.Enqueue(FakeReply.Text("A red square."));
        var (deviceId, token) = await chat.Host.ProvisionAsync("Phone");
        await chat.Host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.MediaProcess], null, Ct);
        var request = new AtlasEnvelope
        {
            Type = MessageTypes.MediaProcess,
            Id = "d-1",
            Data = JsonSerializer.SerializeToElement(new JsonObject
            {
                ["task"] = "describe",
                ["content"] = Convert.ToBase64String(MediaProcessingTests.RenderText("HELLO")),
                ["fileName"] = "hello.png",
                ["bypassCache"] = true, // a run of its own: never attached to the first job, which waits at the gate
            }),
        };

        // The old socket sends, then goes quiet (half-open: it reads nothing more and answers nothing).
        var (old, _) = await chat.Host.ConnectRawAsync(token);
        using var _old = old;
        await AtlasTestHost.SendAsync(old, request);
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        time.Advance(TimeSpan.FromSeconds(40));

        var (socket, _) = await chat.Host.ConnectRawAsync(token);
        using var _socket = socket;
        await AtlasTestHost.SendAsync(socket, request);
        await AtlasTestHost.SendTextAsync(socket, """{"v":1,"type":"ping","id":"p-1"}"""); // frames are handled in order: the resend waits now
        Assert.Equal("p-1", (await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Pong))?.Re);

        time.Advance(TimeSpan.FromSeconds(10)); // the old socket has been silent for three heartbeats: reaped

        var answer = await FinalAsync(socket, "d-1");
        gate.SetResult();
        Assert.True(answer.Type == MessageTypes.MediaResult, answer.Error?.Code + " " + answer.Error?.Message);
        Assert.Equal("A red square.", answer.Data!.Value.GetProperty("result").GetProperty("description").GetProperty("text").GetString());
    }

    /// <summary>Regression (trial F8): nothing bounded one device's media jobs, so one paired device could hold the
    /// whole shared queue (and its staged copies) while every other device waited. Past its own limit a device is
    /// refused at once with rate_limited; another device's job still runs.</summary>
    [Fact]
    public async Task Rest_DeviceAtItsJobLimit_IsRateLimited_AnotherDeviceStillRuns()
    {
        await using var chat = await ChatHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Media:MaxJobsPerRequester"] = "1" });
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        chat.Fake.Enqueue(FakeReply.Stream().Comment().Role().Signal(reached).Gate(gate).Delta("A square.").Finish("stop").Usage(10, 3, 0.0001m).Done());
        using var greedy = await chat.Host.PairClientAsync("Greedy");
        using var other = await chat.Host.PairClientAsync("Other");
        var picture = Convert.ToBase64String(MediaProcessingTests.RenderText("HELLO"));

        var running = PostAsync(greedy, "g-1", $$"""{"task":"describe","content":"{{picture}}"}""");
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        using var refused = await PostAsync(greedy, "g-2", $$"""{"task":"analyze","content":"{{picture}}"}""");
        var elsewhere = await ProcessAsync(other, "o-1", $$"""{"task":"analyze","content":"{{picture}}"}""");
        gate.SetResult();
        using var first = await running;

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(ErrorCodes.RateLimited, await AtlasTestHost.ErrorCodeAsync(refused));
        Assert.True(elsewhere.GetProperty("done").GetBoolean());
        Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync(Ct));

        // The limit counts jobs in flight: with the first one done, the refused request runs when sent again.
        var again = await ProcessAsync(greedy, "g-2", $$"""{"task":"analyze","content":"{{picture}}"}""");
        Assert.True(again.GetProperty("done").GetBoolean());
    }

    private static async Task<AtlasEnvelope> FinalAsync(System.Net.WebSockets.WebSocket socket, string id)
    {
        while (true)
        {
            var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.MediaResult, MessageTypes.Error);
            Assert.NotNull(frame);
            if (frame.Re == id && (frame.Type == MessageTypes.Error || frame.Data!.Value.GetProperty("done").GetBoolean()))
            {
                return frame;
            }
        }
    }

    private static async Task<JsonElement> ProcessAsync(AtlasClient client, string key, string body)
    {
        using var response = await PostAsync(client, key, body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private static Task<HttpResponseMessage> PostAsync(AtlasClient client, string key, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "media/process") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request, Ct);
    }
}
