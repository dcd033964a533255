using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Media;

/// <summary>What <c>media_process</c> may read and write on behalf of a device (its <c>files.read</c> and
/// <c>files.write</c> permissions, over REST and WebSocket alike), and what the shared result cache tells a device.</summary>
[Trait("Speed", "slow")]
public sealed class MediaPermissionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Transports => ["rest", "ws"];

    /// <summary>Before: OCR or analyze on a path returned the content of a file the device had no <c>files.read</c> for.</summary>
    [Theory]
    [MemberData(nameof(Transports))]
    [Trait("Hardening", "3")]
    public async Task Process_PathWithoutFilesRead_RefusedForbiddenAndNothingLeaked(string transport)
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (deviceId, token) = await host.ProvisionAsync("Phone");
        var root = DeviceRoot(host, deviceId);
        Directory.CreateDirectory(Path.Combine(root, "scans"));
        await File.WriteAllBytesAsync(Path.Combine(root, "scans", "secret.png"), MediaProcessingTests.QrPng("https://atlas.example/secret/4711"), Ct);
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.MediaProcess, Permissions.FilesWrite], null, Ct);

        foreach (var body in new[]
        {
            """{"task":"analyze","path":"scans/secret.png"}""",
            """{"task":"ocr","path":"scans/secret.png"}""",
            """{"task":"ocr","path":"scans/missing.png"}""", // same answer: not even whether the file exists
        })
        {
            var (code, raw) = await ProcessAsync(host, transport, token, body);

            Assert.True(code == ErrorCodes.Forbidden, $"{body} → {raw}");
            Assert.Contains("files.read", raw, StringComparison.Ordinal);
            Assert.DoesNotContain("4711", raw, StringComparison.Ordinal);
            Assert.DoesNotContain("secret.png", raw, StringComparison.Ordinal);
        }

        Assert.False(CacheHasEntries(host), "the file was never read, so nothing of it reached the cache");
    }

    /// <summary>Before: a media request on a path answered while the device could read its files was answered again from
    /// the WebSocket request-id cache (file content included) after <c>files.read</c> was removed.</summary>
    [Fact]
    [Trait("Hardening", "3")]
    [Trait("Hardening", "4")]
    public async Task ReplayedMediaRequestOnAPath_FilesReadRemovedSince_RefusedLikeAFreshRequest()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (deviceId, token) = await host.ProvisionAsync("Phone");
        var root = DeviceRoot(host, deviceId);
        Directory.CreateDirectory(root);
        await File.WriteAllBytesAsync(Path.Combine(root, "code.png"), MediaProcessingTests.QrPng("https://atlas.example/secret/4711"), Ct);
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.MediaProcess, Permissions.FilesRead], null, Ct);
        var (socket, _) = await host.ConnectRawAsync(token);
        using var __ = socket;
        using var data = JsonDocument.Parse("""{"task":"analyze","path":"code.png"}""");
        var request = new AtlasEnvelope { Type = MessageTypes.MediaProcess, Id = "replayed", Data = data.RootElement.Clone() };
        await AtlasTestHost.SendAsync(socket, request);
        AtlasEnvelope? frame;
        do
        {
            frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.MediaResult, MessageTypes.Error);
            Assert.NotNull(frame);
        }
        while (frame.Type == MessageTypes.MediaResult && !frame.Data!.Value.GetProperty("done").GetBoolean());
        Assert.Contains("4711", frame.Data!.Value.GetRawText(), StringComparison.Ordinal);

        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.MediaProcess], null, Ct);
        await AtlasTestHost.SendAsync(socket, request);
        var replay = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.MediaResult, MessageTypes.Error);

        Assert.NotNull(replay);
        Assert.Equal((MessageTypes.Error, ErrorCodes.Forbidden, "replayed"), (replay.Type, replay.Error?.Code, replay.Re));
        Assert.DoesNotContain("4711", JsonSerializer.Serialize(replay, AtlasJsonContext.Default.AtlasEnvelope), StringComparison.Ordinal);
    }

    /// <summary>Before: a frames job wrote JPEGs into the device's space although the device had no <c>files.write</c>.</summary>
    [Theory]
    [MemberData(nameof(Transports))]
    [Trait("Hardening", "3")]
    public async Task Frames_WithoutFilesWrite_ReturnedInlineAndDeviceFolderUnchanged(string transport)
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (deviceId, token) = await host.ProvisionAsync("Phone");
        var root = DeviceRoot(host, deviceId);
        Directory.CreateDirectory(root);
        await File.WriteAllBytesAsync(Path.Combine(root, "clip.mp4"), await MediaProcessingTests.GenerateVideoAsync(), Ct);
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.MediaProcess, Permissions.FilesRead], null, Ct);
        var before = Listing(root);

        var (code, raw) = await ProcessAsync(host, transport, token, """{"task":"frames","path":"clip.mp4","frames":{"mode":"interval","intervalSeconds":1}}""");

        Assert.True(code is null, raw);
        var answer = JsonNode.Parse(raw)!.AsObject();
        Assert.Empty(answer["files"]!.AsArray());
        var frames = answer["result"]!["frames"]!["frames"]!.AsArray();
        var inline = answer["inlineFiles"]!.AsArray();
        Assert.True(frames.Count >= 2, raw);
        Assert.Equal(frames.Select(f => (string?)f!["fileName"]), inline.Select(f => (string?)f!["name"]));
        Assert.All(inline, f => Assert.Equal([0xFF, 0xD8], Convert.FromBase64String((string)f!["content"]!)[..2]));
        Assert.Equal(before, Listing(root));
    }

    /// <summary>Before: a second device got <c>fromCache: true</c> (and the first computation's <c>createdAt</c>) for bytes
    /// another device had processed, which told it what that device had looked at.</summary>
    [Fact]
    [Trait("Hardening", "7")]
    public async Task FromCache_ForContentAnotherDeviceProcessed_FalseUntilThisDeviceAskedItself()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (firstId, first) = await host.ProvisionAsync("Phone 1");
        var (secondId, second) = await host.ProvisionAsync("Phone 2");
        foreach (var id in new[] { firstId, secondId })
        {
            await host.Get<DeviceService>().SetPermissionsAsync(id, [Permissions.MediaProcess], null, Ct);
        }

        var body = JsonSerializer.Serialize(new { task = "analyze", content = Convert.ToBase64String(MediaProcessingTests.QrPng("https://atlas.example/probe")) });

        var a1 = await AnswerAsync(host, "rest", first, body);
        var a2 = await AnswerAsync(host, "ws", first, body);
        var b1 = await AnswerAsync(host, "rest", second, body);
        var b2 = await AnswerAsync(host, "ws", second, body);

        Assert.Equal((false, true, false, true), ((bool)a1["fromCache"]!, (bool)a2["fromCache"]!, (bool)b1["fromCache"]!, (bool)b2["fromCache"]!));
        Assert.Equal((string?)a1["result"]!["createdAt"], (string?)a2["result"]!["createdAt"]);
        Assert.NotEqual((string?)a1["result"]!["createdAt"], (string?)b1["result"]!["createdAt"]);
        Assert.Equal((string?)a1["result"]!["image"]!.ToJsonString(), (string?)b1["result"]!["image"]!.ToJsonString());
        Assert.Single(CacheEntries(host)); // still one shared entry: the second device's answer came from it
    }

    internal static string DeviceRoot(AtlasTestHost host, string deviceId) => Path.Combine(host.DataDir, "files", deviceId);

    private static string[] Listing(string root) =>
        [.. Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p)).Order(StringComparer.Ordinal)];

    private static string[] CacheEntries(AtlasTestHost host)
    {
        var entries = Path.Combine(host.DataDir, "media", "cache", "entries");
        return Directory.Exists(entries)
            ? [.. Directory.EnumerateDirectories(entries).Where(d => !Path.GetFileName(d).StartsWith('.')).SelectMany(Directory.EnumerateDirectories)]
            : [];
    }

    private static bool CacheHasEntries(AtlasTestHost host) => CacheEntries(host).Length > 0;

    private static async Task<JsonObject> AnswerAsync(AtlasTestHost host, string transport, string token, string body)
    {
        var (code, raw) = await ProcessAsync(host, transport, token, body);
        Assert.True(code is null, raw);
        return JsonNode.Parse(raw)!.AsObject();
    }

    /// <summary>Sends one media request over REST or a new WebSocket; returns the error code (null on success) and the raw
    /// answer (for WebSocket every frame of the request, so a leak in a progress frame is seen too).</summary>
    internal static async Task<(string? Code, string Raw)> ProcessAsync(AtlasTestHost host, string transport, string token, string body)
    {
        if (transport == "rest")
        {
            using var http = host.PinnedHttp();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var request = new HttpRequestMessage(HttpMethod.Post, "media/process") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
            using var response = await http.SendAsync(request, Ct);
            var raw = await response.Content.ReadAsStringAsync(Ct);
            return (response.IsSuccessStatusCode ? null : JsonNode.Parse(raw)!["error"]!["code"]!.GetValue<string>(), raw);
        }

        var (socket, _) = await host.ConnectRawAsync(token);
        using (socket)
        {
            var id = Guid.NewGuid().ToString("N");
            using var data = JsonDocument.Parse(body);
            await AtlasTestHost.SendAsync(socket, new AtlasEnvelope { Type = MessageTypes.MediaProcess, Id = id, Data = data.RootElement.Clone() });
            var seen = new StringBuilder();
            while (true)
            {
                var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.MediaResult, MessageTypes.Error);
                Assert.NotNull(frame);
                Assert.Equal(id, frame.Re);
                seen.Append(JsonSerializer.Serialize(frame, AtlasJsonContext.Default.AtlasEnvelope));
                if (frame.Type == MessageTypes.Error)
                {
                    return (frame.Error!.Code, seen.ToString());
                }

                if (frame.Data!.Value.GetProperty("done").GetBoolean())
                {
                    return (null, frame.Data.Value.GetRawText());
                }
            }
        }
    }
}
