using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Files;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Admin;

/// <summary>The admin UI's media jobs view over the real pipeline (a long transcription by pocketsphinx that the admin
/// cancels, cached analyses in the recent list), and the guard every new admin endpoint sits behind.</summary>
[Trait("Speed", "slow")]
public sealed class AdminMediaAndSecurityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MediaJobs_ShowTheRunningJobWithDeviceAndFile_CancelStopsIt_AndRecentKeepsOutcomes()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Media:MaxConcurrency"] = "1" });
        using var admin = await AdminClient.SignInAsync(host);
        var (deviceId, token) = await host.ProvisionAsync("Kitchen phone");
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.MediaProcess, Permissions.FilesRead], null, Ct); // transcribing a file of its space reads it
        var audio = await GenerateAudioAsync(TimeSpan.FromMinutes(10)); // minutes of pocketsphinx work: still running when cancelled
        await using (var content = new MemoryStream(audio))
        {
            await host.Get<DeviceFileSystem>().WriteAsync(deviceId, 1L << 30, "voice/long.wav", content, overwrite: true, Ct);
        }

        var (socket, _) = await host.ConnectRawAsync(token);
        using var _socket = socket;

        // Two quick analyses of the same image: the second answers from the cache.
        var png = Convert.ToBase64String(TinyPng());
        foreach (var id in new[] { "a-1", "a-2" })
        {
            await Send(socket, id, new JsonObject { ["task"] = "analyze", ["content"] = png, ["fileName"] = "logo.png" });
            Assert.True((await ResultAsync(socket, id)).GetProperty("done").GetBoolean());
        }

        await Send(socket, "t-1", new JsonObject { ["task"] = "transcribe", ["path"] = "voice/long.wav" });
        while (true)
        {
            var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.MediaResult, MessageTypes.Error);
            Assert.True(frame is { Type: MessageTypes.MediaResult, Re: "t-1" }, frame?.Data?.ToString());
            if (string.Equals(frame!.Data!.Value.GetProperty("progress").GetProperty("status").GetString(), "running", StringComparison.OrdinalIgnoreCase))
            {
                break;
            }
        }

        var jobs = await admin.GetAsync("media/jobs");
        var running = Assert.Single(jobs.GetProperty("running").EnumerateArray());
        Assert.Equal(("transcribe", "voice/long.wav", "Kitchen phone", deviceId, "running"),
            (running.GetProperty("task").GetString(), running.GetProperty("file").GetString(), running.GetProperty("deviceName").GetString(),
             running.GetProperty("deviceId").GetString(), running.GetProperty("status").GetString()));
        Assert.Empty(jobs.GetProperty("queued").EnumerateArray());
        var recent = jobs.GetProperty("recent").EnumerateArray().ToList();
        Assert.Equal([true, false], recent.Select(r => r.GetProperty("fromCache").GetBoolean()));
        Assert.All(recent, r => Assert.Equal(("analyze", "succeeded"), (r.GetProperty("task").GetString(), r.GetProperty("status").GetString())));
        Assert.True(jobs.GetProperty("cache").GetProperty("bytes").GetInt64() > 0);

        var jobId = running.GetProperty("id").GetString();
        await admin.PostAsync($"media/jobs/{jobId}/cancel");
        var error = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Error);
        Assert.Equal(("t-1", ErrorCodes.Cancelled), (error!.Re, error.Error!.Code));
        Assert.Contains("cancelled on the desktop", error.Error.Message, StringComparison.Ordinal);

        jobs = await admin.GetAsync("media/jobs");
        Assert.Empty(jobs.GetProperty("running").EnumerateArray());
        var cancelled = jobs.GetProperty("recent")[0];
        Assert.Equal((jobId, "cancelled"), (cancelled.GetProperty("id").GetString(), cancelled.GetProperty("status").GetString()));
        Assert.True(cancelled.GetProperty("durationSeconds").GetDouble() > 0);
        using var again = await admin.SendAsync(HttpMethod.Post, $"media/jobs/{jobId}/cancel");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task NewAdminEndpoints_RefuseNoSession_DeviceSession_MissingHeader_AndForeignOrigin()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var admin = await AdminClient.SignInAsync(host);
        using var anonymous = AdminClient.NewHttp(host);
        using var device = await host.PairClientAsync();
        var endpoints = new (HttpMethod Method, string Path)[]
        {
            (HttpMethod.Get, "servers"),
            (HttpMethod.Get, "servers/io.example.any/tools"),
            (HttpMethod.Post, "servers/io.example.any/consent"),
            (HttpMethod.Get, "media/jobs"),
            (HttpMethod.Post, "media/jobs/job-1/cancel"),
        };
        foreach (var (method, path) in endpoints)
        {
            using (var response = await anonymous.SendAsync(new HttpRequestMessage(method, "admin/api/" + path) { Headers = { { "X-Atlas-Admin", "1" } } }, Ct))
            {
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"no session {method} {path}: {response.StatusCode}");
            }

            // A paired device's bearer session is not an admin session.
            using (var response = await device.SendAsync(new HttpRequestMessage(method, "admin/api/" + path) { Headers = { { "X-Atlas-Admin", "1" } } }, Ct))
            {
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"device session {method} {path}: {response.StatusCode}");
            }

            if (method == HttpMethod.Post)
            {
                var body = new { decision = "deny" };
                using (var response = await admin.SendAsync(method, path, body, header: false))
                {
                    Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"no header {path}: {response.StatusCode}");
                }

                foreach (var origin in new[] { "https://evil.example", "null", "https://127.0.0.1.evil.example" })
                {
                    using var response = await admin.SendAsync(method, path, body, origin: origin);
                    Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"Origin {origin} {path}: {response.StatusCode}");
                }
            }
        }

        Assert.False(File.Exists(Path.Combine(host.DataDir, "consent.json")));
    }

    private static Task Send(WebSocket socket, string id, JsonObject data) =>
        AtlasTestHost.SendAsync(socket, new AtlasEnvelope { Type = MessageTypes.MediaProcess, Id = id, Data = JsonSerializer.SerializeToElement(data) });

    private static async Task<JsonElement> ResultAsync(WebSocket socket, string id)
    {
        while (true)
        {
            var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.MediaResult, MessageTypes.Error);
            Assert.True(frame is { Type: MessageTypes.MediaResult } && frame.Re == id, frame?.Data?.ToString());
            if (frame!.Data!.Value.GetProperty("done").GetBoolean())
            {
                return frame.Data.Value;
            }
        }
    }

    private static byte[] TinyPng()
    {
        using var generator = new QRCoder.QRCodeGenerator();
        using var data = generator.CreateQrCode("atlas admin test", QRCoder.QRCodeGenerator.ECCLevel.M);
        return new QRCoder.PngByteQRCode(data).GetGraphic(8);
    }

    /// <summary>Pink noise, 16 kHz mono WAV, made by ffmpeg.</summary>
    private static async Task<byte[]> GenerateAudioAsync(TimeSpan duration)
    {
        var path = Path.Combine(Path.GetTempPath(), $"atlas-audio-{Guid.NewGuid():N}.wav");
        try
        {
            using var ffmpeg = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ffmpeg",
                ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", $"anoisesrc=d={(int)duration.TotalSeconds}:c=pink:r=16000:a=0.3", "-ac", "1", "-y", path])
            { RedirectStandardError = true })!;
            var stderr = await ffmpeg.StandardError.ReadToEndAsync(Ct);
            await ffmpeg.WaitForExitAsync(Ct);
            Assert.True(ffmpeg.ExitCode == 0, stderr);
            return await File.ReadAllBytesAsync(path, Ct);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
