using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Files;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Files;

public sealed class FileApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DeviceA_CannotTouchDeviceBFiles_ByAnyPath()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var a = await host.PairClientAsync("A");
        using var b = await host.PairClientAsync("B");
        await using var connectionA = await a.ConnectAsync(Ct);
        await using var connectionB = await b.ConnectAsync(Ct);
        await FileOp(connectionB, new FileRequest { Op = "write", Path = "secret.txt", Content = B64("B's secret") });

        var bRoot = Path.Combine(host.DataDir, "files", b.Credentials.DeviceId);
        var attempts = new[]
        {
            $"../{b.Credentials.DeviceId}/secret.txt", $"..\\{b.Credentials.DeviceId}\\secret.txt", bRoot + "/secret.txt",
            $"x/../../{b.Credentials.DeviceId}/secret.txt", "%2e%2e/" + b.Credentials.DeviceId + "/secret.txt",
            $"..%2f{b.Credentials.DeviceId}%2fsecret.txt", "secret.txt",
        };
        foreach (var path in attempts)
        {
            foreach (var op in new[] { "read", "stat", "delete", "list" })
            {
                var error = await Assert.ThrowsAsync<AtlasException>(() => FileOp(connectionA, new FileRequest { Op = op, Path = path }));
                Assert.Contains(error.Code, new[] { ErrorCodes.InvalidPath, ErrorCodes.NotFound });
            }

            using var rest = await a.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/read?path=" + Uri.EscapeDataString(path)), Ct);
            Assert.Contains(rest.StatusCode, new[] { HttpStatusCode.BadRequest, HttpStatusCode.NotFound });
        }

        // A device id in the body is ignored: identity comes from the session (Atlas namespace-takeover regression).
        var spoof = JsonDocument.Parse($$"""{"op":"write","path":"mine.txt","content":"{{B64("A")}}","deviceId":"{{b.Credentials.DeviceId}}"}""").RootElement.Clone();
        await connectionA.RequestAsync(MessageTypes.FileRequest, spoof, cancellationToken: Ct);
        Assert.True(File.Exists(Path.Combine(host.DataDir, "files", a.Credentials.DeviceId, "mine.txt")));
        Assert.False(File.Exists(Path.Combine(bRoot, "mine.txt")));
        Assert.Equal("B's secret", await File.ReadAllTextAsync(Path.Combine(bRoot, "secret.txt"), Ct));
    }

    [Fact]
    public async Task WebSocketFileOps_RoundTrip()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await using var connection = await client.ConnectAsync(Ct);
        await FileOp(connection, new FileRequest { Op = "mkdir", Path = "docs/notes" });
        await FileOp(connection, new FileRequest { Op = "write", Path = "docs/notes/a.txt", Content = B64("hello world") });
        var read = await FileOp(connection, new FileRequest { Op = "read", Path = "docs/notes/a.txt", Offset = 6, Length = 5 });
        Assert.Equal("world", Encoding.UTF8.GetString(Convert.FromBase64String(read.GetProperty("content").GetString()!)));
        Assert.Equal(11, read.GetProperty("size").GetInt64());
        await FileOp(connection, new FileRequest { Op = "move", Path = "docs/notes/a.txt", To = "docs/b.txt" });
        var list = await FileOp(connection, new FileRequest { Op = "list", Path = "docs" });
        Assert.Equal(["b.txt", "notes"], list.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToArray());
        var exists = await Assert.ThrowsAsync<AtlasException>(() => FileOp(connection, new FileRequest { Op = "write", Path = "docs/b.txt", Content = B64("x") }));
        Assert.Equal(ErrorCodes.AlreadyExists, exists.Code);
        var notEmpty = await Assert.ThrowsAsync<AtlasException>(() => FileOp(connection, new FileRequest { Op = "delete", Path = "docs" }));
        Assert.Equal(ErrorCodes.Conflict, notEmpty.Code);
        await FileOp(connection, new FileRequest { Op = "delete", Path = "docs", Recursive = true });
        Assert.Equal(0, (await FileOp(connection, new FileRequest { Op = "list", Path = "" })).GetProperty("entries").GetArrayLength());
    }

    [Fact]
    public async Task RestWriteAndRangedRead_Work()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        using var write = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=r/data.bin") { Content = new ByteArrayContent(Encoding.ASCII.GetBytes("0123456789")) }, Ct);
        Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        var ranged = new HttpRequestMessage(HttpMethod.Get, "files/read?path=r/data.bin");
        ranged.Headers.Range = new RangeHeaderValue(3, 5);
        using var read = await client.SendAsync(ranged, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, read.StatusCode);
        Assert.Equal("345", await read.Content.ReadAsStringAsync(Ct));
        using var list = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/list?path=r"), Ct);
        Assert.Contains("data.bin", await list.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MultipartUpload_UsesPathFieldNotClientFileName()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        using var form = new MultipartFormDataContent
        {
            { new StringContent("camera/photo.jpg"), "path" },
            { new ByteArrayContent([1, 2, 3, 4]), "file", "../../../etc/evil.jpg" },
        };
        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload") { Content = form }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(4, new FileInfo(Path.Combine(host.DataDir, "files", client.Credentials.DeviceId, "camera", "photo.jpg")).Length);

        using var noPath = new MultipartFormDataContent { { new ByteArrayContent([1]), "file", "x.jpg" } };
        using var refused = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload") { Content = noPath }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    [Fact]
    public async Task ResumableUpload_ContinuesAfterInterruption_AndCommitsAtomically()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var content = Enumerable.Range(0, 300_000).Select(i => (byte)(i % 251)).ToArray();
        using var create = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload/sessions")
        {
            Content = JsonContent.Create(new UploadCreateRequest("video/clip.mp4", content.Length), DesktopJsonContext.Default.UploadCreateRequest),
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var upload = (await create.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!;

        Assert.Equal(HttpStatusCode.OK, (await Chunk(client, upload.UploadId, content, 0, 100_000)).StatusCode);
        // The client lost track: it resends from a wrong offset, is told where to continue, asks, and continues.
        using var wrong = await Chunk(client, upload.UploadId, content, 50_000, 100_000);
        Assert.Equal(HttpStatusCode.Conflict, wrong.StatusCode);
        using var status = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/upload/sessions/" + upload.UploadId), Ct);
        var received = (await status.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!.Received;
        Assert.Equal(100_000, received);
        Assert.False(File.Exists(Path.Combine(host.DataDir, "files", client.Credentials.DeviceId, "video", "clip.mp4")));
        using var last = await Chunk(client, upload.UploadId, content, 100_000, content.Length - 100_000);
        var done = (await last.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!;
        Assert.True(done.Completed);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(host.DataDir, "files", client.Credentials.DeviceId, "video", "clip.mp4"), Ct));

        using var gone = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/upload/sessions/" + upload.UploadId), Ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Quota_IsEnforcedOnWritesAndUploads_AndChangesApply()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await host.Get<DeviceService>().SetPermissionsAsync(client.Credentials.DeviceId, [Permissions.FilesRead, Permissions.FilesWrite], 1000, Ct);
        using var ok = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=a") { Content = new ByteArrayContent(new byte[600]) }, Ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var over = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=b") { Content = new ByteArrayContent(new byte[600]) }, Ct);
        Assert.Equal(HttpStatusCode.InsufficientStorage, over.StatusCode);
        Assert.Equal(ErrorCodes.QuotaExceeded, await AtlasTestHost.ErrorCodeAsync(over));
        Assert.False(File.Exists(Path.Combine(host.DataDir, "files", client.Credentials.DeviceId, "b")));
        Assert.Empty(Directory.GetFiles(Path.Combine(host.DataDir, "files", client.Credentials.DeviceId), ".atlas-*"));
        using var upload = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload/sessions")
        {
            Content = JsonContent.Create(new UploadCreateRequest("c", 500), DesktopJsonContext.Default.UploadCreateRequest),
        }, Ct);
        Assert.Equal(ErrorCodes.QuotaExceeded, await AtlasTestHost.ErrorCodeAsync(upload));
    }

    [Fact]
    public async Task WriteInterruptedMidStream_LeavesOldContentAndNoTemporaries()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var fs = host.Get<DeviceFileSystem>();
        var (deviceId, _) = await host.ProvisionAsync("w");
        await fs.WriteAsync(deviceId, 1 << 20, "doc.txt", new MemoryStream(Encoding.UTF8.GetBytes("old")), overwrite: false, Ct);
        await Assert.ThrowsAsync<IOException>(() => fs.WriteAsync(deviceId, 1 << 20, "doc.txt", new FailingStream(), overwrite: true, Ct));
        var root = Path.Combine(host.DataDir, "files", deviceId);
        Assert.Equal("old", await File.ReadAllTextAsync(Path.Combine(root, "doc.txt"), Ct));
        Assert.Equal(["doc.txt"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName).ToArray());
    }

    [Fact]
    public async Task FilesWithoutPermission_AreForbidden()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await host.Get<DeviceService>().SetPermissionsAsync(client.Credentials.DeviceId, [Permissions.Chat], null, Ct);
        using var list = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/list"), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        Assert.Equal(ErrorCodes.Forbidden, await AtlasTestHost.ErrorCodeAsync(list));
    }

    private static Task<HttpResponseMessage> Chunk(AtlasClient client, string id, byte[] content, int from, int length)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "files/upload/sessions/" + id) { Content = new ByteArrayContent(content, from, length) };
        request.Content.Headers.ContentRange = new ContentRangeHeaderValue(from, from + length - 1, content.Length);
        return client.SendAsync(request, Ct);
    }

    private static async Task<JsonElement> FileOp(Atlas.Client.Connection.AtlasConnection connection, FileRequest request) =>
        (await connection.RequestAsync(MessageTypes.FileRequest, JsonSerializer.SerializeToElement(request, AtlasJsonContext.Default.FileRequest), cancellationToken: Ct)).Data!.Value;

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private sealed class FailingStream : Stream
    {
        private int _reads;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_reads++ > 0)
            {
                throw new IOException("The phone went away mid-upload.");
            }

            buffer.AsSpan(offset, Math.Min(count, 1000)).Fill((byte)'n');
            return Math.Min(count, 1000);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
