using System.Net;
using System.Net.Http.Json;
using System.Text;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Files;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Files;

/// <summary>A refused change changes nothing: no parent folder is left behind by a refused or interrupted write, and the
/// folders a change would create count against <c>Atlas:Files:MaxEntries</c>.</summary>
public sealed class RefusedChangeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Regression: a write refused for quota (507) left r1/r2/r3 behind.</summary>
    [Fact]
    public async Task Write_RefusedForQuota_LeavesNoParentFolders()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await host.Get<DeviceService>().SetPermissionsAsync(client.Credentials.DeviceId, [Permissions.FilesRead, Permissions.FilesWrite], 100, Ct);

        using var write = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=r1/r2/r3/x.bin")
        {
            Content = new ByteArrayContent(new byte[600]),
        }, Ct);

        Assert.Equal(HttpStatusCode.InsufficientStorage, write.StatusCode);
        Assert.Empty(Entries(host, client.Credentials.DeviceId));
    }

    /// <summary>Regression: a write cut off mid-body left its new parent folder.</summary>
    [Fact]
    public async Task Write_InterruptedMidBody_LeavesNoParentFolders()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var fs = host.Get<DeviceFileSystem>();
        var (deviceId, _) = await host.ProvisionAsync("w");

        await Assert.ThrowsAsync<IOException>(() => fs.WriteAsync(deviceId, 1 << 20, "new/dir/doc.txt", new BreakingStream(), overwrite: false, Ct));

        Assert.Empty(Entries(host, deviceId));
    }

    /// <summary>Regression: the entry limit counted only the file, so one write to a/b/c/d/e/f/g/h/x.txt made 9 entries
    /// under a limit of 5.</summary>
    [Fact]
    public async Task Write_NewParentsPastMaxEntries_RefusedWithQuotaExceeded_AndNothingCreated()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Files:MaxEntries"] = "5" });
        using var client = await host.PairClientAsync();

        using var write = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=a/b/c/d/e/f/g/h/x.txt")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("x")),
        }, Ct);

        Assert.Equal(HttpStatusCode.InsufficientStorage, write.StatusCode);
        Assert.Equal(ErrorCodes.QuotaExceeded, await AtlasTestHost.ErrorCodeAsync(write));
        Assert.Empty(Entries(host, client.Credentials.DeviceId));

        using var fits = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=a/b/c/d/x.txt")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("x")),
        }, Ct);
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        Assert.Equal(5, Entries(host, client.Credentials.DeviceId).Length);
    }

    /// <summary>Regression: an upload's completion checked no entry limit at all and created its parents.</summary>
    [Fact]
    public async Task Upload_NewParentsPastMaxEntries_RefusedAtCreationAndAtCompletion()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Files:MaxEntries"] = "5" });
        using var client = await host.PairClientAsync();
        var deviceId = client.Credentials.DeviceId;

        using (var doomed = await UploadQuotaTests.CreateAsync(client, "a/b/c/d/e/x.bin", 4))
        {
            Assert.Equal(ErrorCodes.QuotaExceeded, await AtlasTestHost.ErrorCodeAsync(doomed));
        }

        using var create = await UploadQuotaTests.CreateAsync(client, "p/q/x.bin", 4);
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var id = (await create.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!.UploadId;
        await host.Get<DeviceFileSystem>().MkdirAsync(deviceId, "m1/m2/m3", Ct);

        using var chunk = await UploadQuotaTests.ChunkAsync(client, id, [1, 2, 3, 4], 0, 4);

        Assert.Equal(ErrorCodes.QuotaExceeded, await AtlasTestHost.ErrorCodeAsync(chunk));
        Assert.Equal(["m1", "m1/m2", "m1/m2/m3"], Entries(host, deviceId));
    }

    /// <summary>Regression: a move created the target's parents without counting them.</summary>
    [Fact]
    public async Task Move_NewParentsPastMaxEntries_RefusedWithQuotaExceeded_AndNothingCreated()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Files:MaxEntries"] = "3" });
        var fs = host.Get<DeviceFileSystem>();
        var (deviceId, _) = await host.ProvisionAsync("m");
        await fs.WriteAsync(deviceId, 1 << 20, "a.txt", new MemoryStream([1]), overwrite: false, Ct);

        var refused = await Assert.ThrowsAsync<AtlasException>(() => fs.MoveAsync(deviceId, "a.txt", "p/q/r/a.txt", overwrite: false, Ct));

        Assert.Equal(ErrorCodes.QuotaExceeded, refused.Code);
        Assert.Equal(["a.txt"], Entries(host, deviceId));
        await fs.MoveAsync(deviceId, "a.txt", "p/q/a.txt", overwrite: false, Ct);
    }

    /// <summary>Regression: mkdir counted every segment of the path, existing ones included, so it refused a folder that
    /// fits.</summary>
    [Fact]
    public async Task Mkdir_CountsOnlyTheFoldersItCreates()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Files:MaxEntries"] = "3" });
        var fs = host.Get<DeviceFileSystem>();
        var (deviceId, _) = await host.ProvisionAsync("d");
        await fs.MkdirAsync(deviceId, "a/b", Ct);

        await fs.MkdirAsync(deviceId, "a/b/c", Ct);

        var refused = await Assert.ThrowsAsync<AtlasException>(() => fs.MkdirAsync(deviceId, "a/x/y", Ct));
        Assert.Equal(ErrorCodes.QuotaExceeded, refused.Code);
        Assert.Equal(3, Entries(host, deviceId).Length);
    }

    /// <summary>The device's entries, recursively, relative to its folder ("a", "a/b", …).</summary>
    private static string[] Entries(AtlasTestHost host, string deviceId)
    {
        var root = Path.Combine(host.DataDir, "files", deviceId);
        return Directory.Exists(root)
            ? Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Select(e => Path.GetRelativePath(root, e)).Order(StringComparer.Ordinal).ToArray()
            : [];
    }

    /// <summary>A body whose sender goes away after the first bytes.</summary>
    private sealed class BreakingStream : Stream
    {
        private bool _sent;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_sent)
            {
                throw new IOException("The phone went away mid-upload.");
            }

            _sent = true;
            buffer[offset] = (byte)'n';
            return 1;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
