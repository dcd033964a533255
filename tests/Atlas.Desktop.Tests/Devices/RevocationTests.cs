using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Files;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Files;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Extensions.Hosting;

namespace Atlas.Desktop.Tests.Devices;

/// <summary>Revocation ends every live stream and request of the device at once, and nothing of it is written afterwards.</summary>
public sealed class RevocationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Regression: a REST chat stream (SSE) kept delivering deltas and <c>done</c> after revocation, and the
    /// revoke result said "closed 0 live connection(s)".</summary>
    [Fact]
    [Trait("Hardening", "8")]
    public async Task Revoke_WhileSseChatStreamIsOpen_EndsTheStreamAndCountsIt()
    {
        await using var chat = await ChatHost.StartAsync();
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(ChatHost.Gated(reached, gate));
        using var client = await chat.Host.PairClientAsync();
        using var response = await chat.PostMessageAsync(client, "sse-revoke", """{"text":"hello"}""");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var body = await response.Content.ReadAsStreamAsync(Ct);
        using var reader = new StreamReader(body);
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);

        var closed = await chat.Host.Get<DeviceService>().RevokeAsync(client.Credentials.DeviceId, deleteFiles: false, Ct);

        // The stream ends (end of body or a broken connection) while the provider is still holding the answer back.
        var deltasAfterRevoke = await ReadToEndAsync(reader).WaitAsync(TestTimeouts.Default, Ct);
        Assert.Equal(1, closed);
        gate.SetResult();
        var events = deltasAfterRevoke.Where(l => l.StartsWith("data: ", StringComparison.Ordinal))
            .Select(l => JsonSerializer.Deserialize(l[6..], AtlasJsonContext.Default.AtlasEnvelope)!)
            .Where(f => f.Type == MessageTypes.ChatResponse)
            .Select(f => f.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent)!)
            .ToList();
        var trace = string.Join(" | ", deltasAfterRevoke);
        Assert.True(events.All(e => e.Kind != ChatEventKinds.Done), trace);
        Assert.StartsWith(ChatHost.Text(events), ChatHost.GatedText(), StringComparison.Ordinal);
        Assert.NotEqual(ChatHost.GatedText(), ChatHost.Text(events));
    }

    /// <summary>Regression: after revocation only the stream to the device was cut; its answer went on and the provider
    /// kept billing for it until the answer ended on its own.</summary>
    [Fact]
    [Trait("Hardening", "8")]
    public async Task Revoke_WhileAnAnswerRuns_StopsTheAnswerAndItsProviderRequest()
    {
        await using var chat = await ChatHost.StartAsync();
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(ChatHost.Gated(reached, gate));
        using var client = await chat.Host.PairClientAsync();
        var deviceId = client.Credentials.DeviceId;
        using var response = await chat.PostMessageAsync(client, "answer-revoke", """{"text":"hello"}""");
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        var generation = chat.Host.Get<Atlas.Desktop.Chat.Generations.GenerationManager>().FindByRequest(deviceId, "answer-revoke");
        Assert.NotNull(generation);

        await chat.Host.Get<DeviceService>().RevokeAsync(deviceId, deleteFiles: false, Ct);

        // The provider still holds the rest of the answer back: only the revocation can have ended it.
        await generation.Finished.WaitAsync(TestTimeouts.Default, Ct);
        Assert.Equal(ChatStatus.Cancelled, generation.Status);
        Assert.False(gate.Task.IsCompleted);
        gate.SetResult();
    }

    /// <summary>Regression: an upload in progress went on after revocation and its part file stayed forever.</summary>
    [Fact]
    [Trait("Hardening", "8")]
    public async Task Revoke_DuringResumableUpload_NextChunkRefusedAndPartDeleted()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var deviceId = client.Credentials.DeviceId;
        var content = new byte[200_000];
        using var create = await UploadQuotaTests.CreateAsync(client, "clip.bin", content.Length);
        var id = (await create.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!.UploadId;
        using (var first = await UploadQuotaTests.ChunkAsync(client, id, content, 0, 100_000))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // A chunk is on its way (part of its body sent) when the device is revoked.
        var sent = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var request = new HttpRequestMessage(HttpMethod.Put, "files/upload/sessions/" + id)
        {
            Content = new GatedContent(content.AsMemory(100_000, 100_000), 50_000, sent, release),
        };
        request.Content.Headers.ContentRange = new ContentRangeHeaderValue(100_000, 199_999, content.Length);
        var inFlight = SendAndCaptureAsync(client, request);
        await sent.Task.WaitAsync(TestTimeouts.Default, Ct);

        await host.Get<DeviceService>().RevokeAsync(deviceId, deleteFiles: false, Ct);
        release.SetResult();

        var outcome = await inFlight.WaitAsync(TestTimeouts.Default, Ct);
        Assert.NotEqual(HttpStatusCode.OK, outcome);
        Assert.False(Directory.Exists(Path.Combine(host.DataDir, "uploads", deviceId)), "the device's upload parts survived revocation");
        Assert.False(File.Exists(Path.Combine(host.DataDir, "files", deviceId, "clip.bin")));
    }

    /// <summary>Regression: writes in flight when the device was revoked with <c>--delete-files</c> completed afterwards
    /// and re-created the folder that had just been removed.</summary>
    [Fact]
    [Trait("Hardening", "8")]
    public async Task Revoke_WithDeleteFiles_RacingWrites_NeverLeavesTheDeviceFolder()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var deviceId = client.Credentials.DeviceId;
        using var first = new HttpRequestMessage(HttpMethod.Post, "files/write?path=keep/a.txt") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes("a")) };
        using (var existing = await client.SendAsync(first, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, existing.StatusCode);
        }

        var release = new TaskCompletionSource();
        var writes = new List<Task<HttpStatusCode>>();
        var started = new List<Task>();
        for (var i = 0; i < 4; i++)
        {
            var sent = new TaskCompletionSource();
            started.Add(sent.Task);
            var request = new HttpRequestMessage(HttpMethod.Post, $"files/write?path=new{i}/f.bin")
            {
                Content = new GatedContent(new byte[20_000], 10_000, sent, release),
            };
            writes.Add(SendAndCaptureAsync(client, request));
        }

        await Task.WhenAll(started).WaitAsync(TestTimeouts.Default, Ct);
        var revoke = host.Get<DeviceService>().RevokeAsync(deviceId, deleteFiles: true, Ct);
        release.SetResult();
        await revoke.WaitAsync(TestTimeouts.Default, Ct);
        var outcomes = await Task.WhenAll(writes).WaitAsync(TestTimeouts.Default, Ct);

        Assert.DoesNotContain(HttpStatusCode.OK, outcomes);
        Assert.False(Directory.Exists(Path.Combine(host.DataDir, "files", deviceId)), "a write re-created the revoked device's folder");
    }

    /// <summary>Regression: in-process writers for a device (media jobs, the WebSocket file ops) re-created a revoked
    /// device's folder: every path resolution created the device root.</summary>
    [Fact]
    [Trait("Hardening", "8")]
    public async Task DeviceFileSystem_AfterRevoke_RefusesEveryMutationAndCreatesNothing()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var fs = host.Get<DeviceFileSystem>();
        var (deviceId, _) = await host.ProvisionAsync("w");
        await fs.WriteAsync(deviceId, 1 << 20, "doc.txt", new MemoryStream([1, 2, 3]), overwrite: false, Ct);
        await host.Get<DeviceService>().RevokeAsync(deviceId, deleteFiles: true, Ct);

        var write = await Assert.ThrowsAsync<Atlas.Client.AtlasException>(() =>
            fs.WriteAsync(deviceId, 1 << 20, "again/doc.txt", new MemoryStream([1]), overwrite: true, Ct));
        Assert.Equal(ErrorCodes.Revoked, write.Code);
        var mkdir = await Assert.ThrowsAsync<Atlas.Client.AtlasException>(() => fs.MkdirAsync(deviceId, "artifacts", Ct));
        Assert.Equal(ErrorCodes.Revoked, mkdir.Code);
        Assert.Throws<Atlas.Client.AtlasException>(() => fs.Stat(deviceId, "doc.txt"));
        Assert.False(Directory.Exists(Path.Combine(host.DataDir, "files", deviceId)));
    }

    /// <summary>Regression: a write queued behind another when the device was revoked with <c>--delete-files</c> ran
    /// afterwards and re-created the folder just removed (every write resolved, and so created, the device's root).</summary>
    [Fact]
    [Trait("Hardening", "8")]
    public async Task Revoke_WithDeleteFiles_WhileAWriteIsInFlightAndAnotherQueued_NothingIsWrittenAfterwards()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var fs = host.Get<DeviceFileSystem>();
        var (deviceId, _) = await host.ProvisionAsync("w");
        var reading = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var inFlight = fs.WriteAsync(deviceId, 1 << 20, "a/first.bin", new GatedStream(reading, release), overwrite: false, Ct);
        await reading.Task.WaitAsync(TestTimeouts.Default, Ct); // the first write holds the device's write lock
        var queued = fs.WriteAsync(deviceId, 1 << 20, "b/second.bin", new MemoryStream([1, 2, 3]), overwrite: false, Ct);

        var revoke = host.Get<DeviceService>().RevokeAsync(deviceId, deleteFiles: true, Ct);
        release.SetResult();
        await revoke.WaitAsync(TestTimeouts.Default, Ct);

        await Assert.ThrowsAnyAsync<Exception>(() => inFlight.WaitAsync(TestTimeouts.Default, Ct));
        var refused = await Assert.ThrowsAsync<Atlas.Client.AtlasException>(() => queued.WaitAsync(TestTimeouts.Default, Ct));
        Assert.Equal(ErrorCodes.Revoked, refused.Code);
        Assert.False(Directory.Exists(Path.Combine(host.DataDir, "files", deviceId)), "a write re-created the revoked device's folder");
    }

    /// <summary>Regression: part files of a device revoked before revocation deleted them stayed on disk forever (the
    /// sweep deleted only expired sessions, and revocation had already deleted the sessions).</summary>
    [Fact]
    [Trait("Hardening", "8")]
    public async Task CleanupSweep_PartsOfADeviceThatNoLongerExists_AreDeleted()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (live, _) = await host.ProvisionAsync("live");
        // The sweep the host makes at startup runs on its own: the parts are written after it, so it cannot remove
        // the orphan's folder between its creation and its write (CI: DirectoryNotFoundException).
        await host.Get<IEnumerable<IHostedService>>().OfType<CleanupService>().Single().FirstSweep.WaitAsync(TestTimeouts.Default, Ct);
        var orphan = Path.Combine(host.DataDir, "uploads", "dev_gone0123456789", "up_0123456789abcdef.part");
        var kept = Path.Combine(host.DataDir, "uploads", live, "up_fedcba9876543210.part");
        foreach (var part in new[] { orphan, kept })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(part)!);
            await File.WriteAllBytesAsync(part, new byte[10], Ct);
        }

        await host.Get<UploadService>().PurgeExpiredAsync(Ct);

        Assert.False(Directory.Exists(Path.GetDirectoryName(orphan)));
        Assert.True(File.Exists(kept));
    }

    private static async Task<List<string>> ReadToEndAsync(StreamReader reader)
    {
        var lines = new List<string>();
        try
        {
            while (await reader.ReadLineAsync(Ct) is { } line)
            {
                lines.Add(line);
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // The server cut the stream: the connection broke instead of ending cleanly.
        }

        return lines;
    }

    /// <summary>The status of a request, or 0 when the server cut the connection.</summary>
    private static async Task<HttpStatusCode> SendAndCaptureAsync(Atlas.Client.AtlasClient client, HttpRequestMessage request)
    {
        try
        {
            using var response = await client.SendAsync(request, Ct);
            await response.Content.ReadAsByteArrayAsync(Ct);
            return response.StatusCode;
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return 0;
        }
        finally
        {
            request.Dispose();
        }
    }

    /// <summary>A stream that returns some bytes, signals, and waits for <c>release</c> before its end.</summary>
    private sealed class GatedStream(TaskCompletionSource reading, TaskCompletionSource release) : Stream
    {
        private int _reads;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            switch (_reads++)
            {
                case 0:
                    buffer.Span[..100].Fill(7);
                    return 100;
                case 1:
                    reading.TrySetResult();
                    await release.Task.WaitAsync(cancellationToken);
                    buffer.Span[..100].Fill(8);
                    return 100;
                default:
                    return 0;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A body that sends its first <c>head</c> bytes, signals, then waits for <c>release</c> before the rest.</summary>
    private sealed class GatedContent(ReadOnlyMemory<byte> content, int head, TaskCompletionSource sent, TaskCompletionSource release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            await SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(content[..head], cancellationToken);
            await stream.FlushAsync(cancellationToken);
            sent.TrySetResult();
            await release.Task.WaitAsync(cancellationToken);
            await stream.WriteAsync(content[head..], cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = content.Length;
            return true;
        }
    }
}
