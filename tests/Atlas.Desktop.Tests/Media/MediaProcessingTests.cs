using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Tests.Infrastructure;
using ImageMagick;
using QRCoder;

namespace Atlas.Desktop.Tests.Media;

/// <summary>Media processing through the desktop: a phone's uploaded file or inline bytes, the real pipeline and tools.</summary>
[Trait("Speed", "slow")]
public sealed class MediaProcessingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rest_OcrOfAnUploadedScan_ReturnsTheTextAndARepeatComesFromTheCache()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await using (var connection = await client.ConnectAsync(Ct))
        {
            await WriteFileAsync(connection, "scans/invoice.png", RenderText("INVOICE NUMBER 4711", "TOTAL DUE 129 EUR"));
        }

        var first = await ProcessAsync(client, """{"task":"ocr","path":"scans/invoice.png"}""");
        var second = await ProcessAsync(client, """{"task":"ocr","path":"scans/invoice.png"}""");

        Assert.True(first.GetProperty("done").GetBoolean());
        var text = first.GetProperty("result").GetProperty("ocr").GetProperty("text").GetString()!;
        Assert.Contains("INVOICE", text, StringComparison.Ordinal);
        Assert.Contains("4711", text, StringComparison.Ordinal);
        Assert.False(first.GetProperty("fromCache").GetBoolean());
        Assert.True(second.GetProperty("fromCache").GetBoolean());
        Assert.Equal(text, second.GetProperty("result").GetProperty("ocr").GetProperty("text").GetString());
        Assert.True(Directory.EnumerateFiles(Path.Combine(host.DataDir, "media", "cache"), "*", SearchOption.AllDirectories).Any(), "the cache lives in the data directory");
    }

    [Fact]
    public async Task WebSocket_AnalyzeInlineImage_StreamsProgressThenTheResult()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (deviceId, token) = await host.ProvisionAsync("Phone");
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.MediaProcess], null, Ct);
        var (socket, _) = await host.ConnectRawAsync(token);
        using var _socket = socket;
        var png = QrPng("https://atlas.example/receipt/42");

        await AtlasTestHost.SendAsync(socket, new AtlasEnvelope
        {
            Type = MessageTypes.MediaProcess,
            Id = "m-1",
            Data = JsonSerializer.SerializeToElement(new JsonObject { ["task"] = "analyze", ["content"] = Convert.ToBase64String(png), ["fileName"] = "qr.png" }),
        });
        var frames = new List<JsonElement>();
        while (true)
        {
            var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.MediaResult, MessageTypes.Error);
            Assert.NotNull(frame);
            Assert.Equal(MessageTypes.MediaResult, frame.Type);
            Assert.Equal("m-1", frame.Re);
            frames.Add(frame.Data!.Value);
            if (frame.Data.Value.GetProperty("done").GetBoolean())
            {
                break;
            }
        }

        Assert.True(frames.Count >= 2, "at least one progress frame precedes the result");
        Assert.All(frames[..^1], f => Assert.False(string.IsNullOrEmpty(f.GetProperty("progress").GetProperty("stage").GetString())));
        var result = frames[^1].GetProperty("result");
        Assert.Equal("Image", result.GetProperty("kind").GetString());
        var codes = result.GetProperty("image").GetProperty("codes").EnumerateArray().Select(c => c.GetProperty("text").GetString()).ToList();
        Assert.Contains("https://atlas.example/receipt/42", codes);
    }

    [Fact]
    public async Task Frames_AreCopiedIntoTheDevicesSpaceForThePhoneToRead()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var video = await GenerateVideoAsync();
        await using var connection = await client.ConnectAsync(Ct);
        await WriteFileAsync(connection, "clip.mp4", video);

        var answer = await ProcessAsync(client, """{"task":"frames","path":"clip.mp4","frames":{"mode":"interval","intervalSeconds":1}}""");

        var files = answer.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).ToList();
        Assert.True(files.Count >= 2, answer.ToString());
        Assert.All(files, f => Assert.StartsWith("atlas-media/", f, StringComparison.Ordinal));
        var read = await connection.RequestAsync(MessageTypes.FileRequest, JsonSerializer.SerializeToElement(new JsonObject { ["op"] = "read", ["path"] = files[0] }), cancellationToken: Ct);
        var jpeg = Convert.FromBase64String(read.Data!.Value.GetProperty("content").GetString()!);
        Assert.Equal([0xFF, 0xD8], jpeg[..2]);
    }

    [Fact]
    public async Task BadRequests_GetClearErrorsAndChangeNothing()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await using (var connection = await client.ConnectAsync(Ct))
        {
            await WriteFileAsync(connection, "notes.txt", Encoding.UTF8.GetBytes("just some text, not media"));
            await WriteFileAsync(connection, "list.m3u8", Encoding.UTF8.GetBytes("#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:1,\nfile:///etc/passwd\n"));
        }

        var cases = new (string Body, HttpStatusCode Status, string Code, string Hint)[]
        {
            ("""{"task":"ocr","path":"notes.txt"}""", HttpStatusCode.UnsupportedMediaType, ErrorCodes.UnsupportedMedia, "unsupported_format"),
            ("""{"task":"frames","path":"list.m3u8"}""", HttpStatusCode.UnprocessableEntity, ErrorCodes.MediaRejected, "unsafe_input"),
            ("""{"task":"ocr","path":"../other-device/x.png"}""", HttpStatusCode.BadRequest, ErrorCodes.InvalidPath, ""),
            ("""{"task":"ocr","path":"missing.png"}""", HttpStatusCode.NotFound, ErrorCodes.NotFound, ""),
            ("""{"task":"paint","path":"notes.txt"}""", HttpStatusCode.BadRequest, ErrorCodes.BadRequest, "ocr, analyze, frames"),
            ("""{"task":"ocr","path":"a.png","content":"AAAA"}""", HttpStatusCode.BadRequest, ErrorCodes.BadRequest, "exactly one of path"),
            ("""{"task":"ocr","content":"%%%not base64"}""", HttpStatusCode.BadRequest, ErrorCodes.BadRequest, "base64"),
            ("""{"task":"ocr","path":"notes.txt","ocr":{"engine":42}}""", HttpStatusCode.BadRequest, ErrorCodes.BadRequest, "ocr options"),
            ("""{"task":"ocr","path":"notes.txt","ocr":{"langauge":"deu"}}""", HttpStatusCode.BadRequest, ErrorCodes.BadRequest, "no field 'langauge'"),
            ("""{"task":"frames","path":"notes.txt","frames":{"mode":"interval","ocrOptions":{"language":"eng"},"maxFrames":0}}""", HttpStatusCode.BadRequest, ErrorCodes.BadRequest, "maxFrames"),
            ("""[1,2]""", HttpStatusCode.BadRequest, ErrorCodes.BadRequest, "must be an object"),
        };
        foreach (var (body, status, code, hint) in cases)
        {
            using var response = await PostAsync(client, body);
            Assert.True(status == response.StatusCode, $"{body} → {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
            var error = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("error");
            Assert.Equal(code, error.GetProperty("code").GetString());
            Assert.Contains(hint, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        var inline = await PostAsync(client, JsonSerializer.Serialize(new { task = "ocr", content = Convert.ToBase64String(new byte[600 * 1024]) }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, inline.StatusCode);
        Assert.Equal(["list.m3u8", "notes.txt"], Directory.GetFiles(Path.Combine(host.DataDir, "files", client.Credentials.DeviceId)).Select(Path.GetFileName).Order().ToArray());
    }

    [Fact]
    public async Task DeviceWithoutMediaPermission_IsRefused()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await host.Get<DeviceService>().SetPermissionsAsync(client.Credentials.DeviceId, [Permissions.FilesRead, Permissions.FilesWrite], null, Ct);

        using var response = await PostAsync(client, """{"task":"analyze","content":"AAAA"}""");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(ErrorCodes.Forbidden, await AtlasTestHost.ErrorCodeAsync(response));
    }

    private static async Task<JsonElement> ProcessAsync(AtlasClient client, string body)
    {
        using var response = await PostAsync(client, body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private static Task<HttpResponseMessage> PostAsync(AtlasClient client, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "media/process") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        return client.SendAsync(request, Ct);
    }

    private static async Task WriteFileAsync(Client.Connection.AtlasConnection connection, string path, byte[] content)
    {
        if (Path.GetDirectoryName(path) is { Length: > 0 } dir)
        {
            await connection.RequestAsync(MessageTypes.FileRequest, JsonSerializer.SerializeToElement(new JsonObject { ["op"] = "mkdir", ["path"] = dir }), cancellationToken: Ct);
        }

        await connection.RequestAsync(MessageTypes.FileRequest,
            JsonSerializer.SerializeToElement(new JsonObject { ["op"] = "write", ["path"] = path, ["content"] = Convert.ToBase64String(content) }), cancellationToken: Ct);
    }

    internal static byte[] RenderText(params string[] lines)
    {
        var settings = new MagickReadSettings { Font = "DejaVu-Sans", FontPointsize = 40, BackgroundColor = MagickColors.White, FillColor = MagickColors.Black };
        using var image = new MagickImage("label:" + string.Join('\n', lines), settings);
        image.BorderColor = MagickColors.White;
        image.Border(40);
        return image.ToByteArray(MagickFormat.Png);
    }

    internal static async Task<byte[]> GenerateVideoAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), $"atlas-clip-{Guid.NewGuid():N}.mp4");
        try
        {
            using var ffmpeg = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ffmpeg",
                ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=3", "-pix_fmt", "yuv420p", "-y", path])
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

    internal static byte[] QrPng(string payload)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(payload, QRCodeGenerator.ECCLevel.M);
        return new PngByteQRCode(data).GetGraphic(8);
    }
}
