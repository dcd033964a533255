using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Files;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Files;

/// <summary>Open resumable upload sessions reserve quota; parts count; the number of open sessions is capped.</summary>
public sealed class UploadQuotaTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Regression: creation checked usage + size but not other open sessions, so ten 90,000-byte sessions under
    /// a 100,000-byte quota left 899,990 bytes of parts on disk.</summary>
    [Fact]
    [Trait("Hardening", "1")]
    public async Task CreateUpload_OpenSessionsExceedQuota_RefusedWithQuotaExceeded_AndDiskStaysWithinQuota()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var deviceId = client.Credentials.DeviceId;
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.FilesRead, Permissions.FilesWrite], 100_000, Ct);
        var content = new byte[90_000];

        var created = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await CreateAsync(client, $"big{i}.bin", content.Length);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                created.Add((await response.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!.UploadId);
            }
            else
            {
                Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
                Assert.Equal(ErrorCodes.QuotaExceeded, await AtlasTestHost.ErrorCodeAsync(response));
            }
        }

        Assert.Single(created);

        // Every accepted session sends all but its last byte: the parts on disk stay within the quota.
        foreach (var id in created)
        {
            using var chunk = await ChunkAsync(client, id, content, 0, content.Length - 1);
            Assert.Equal(HttpStatusCode.OK, chunk.StatusCode);
        }

        Assert.True(DiskUsage(host, deviceId) <= 100_000, $"{DiskUsage(host, deviceId)} bytes on disk for a 100,000-byte quota");

        // Finishing the one session frees nothing (the file takes its place) and a second 90,000-byte session is still refused.
        using (var last = await ChunkAsync(client, created[0], content, content.Length - 1, 1))
        {
            Assert.True((await last.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!.Completed);
        }

        using var again = await CreateAsync(client, "again.bin", content.Length);
        Assert.Equal(ErrorCodes.QuotaExceeded, await AtlasTestHost.ErrorCodeAsync(again));
        Assert.True(DiskUsage(host, deviceId) <= 100_000);
    }

    /// <summary>Regression: a plain write did not count the quota reserved by open upload sessions.</summary>
    [Fact]
    [Trait("Hardening", "1")]
    public async Task WriteFile_OpenUploadReservesQuota_RefusedWithQuotaExceeded()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await host.Get<DeviceService>().SetPermissionsAsync(client.Credentials.DeviceId, [Permissions.FilesRead, Permissions.FilesWrite], 1000, Ct);
        using (var create = await CreateAsync(client, "upload.bin", 800))
        {
            Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        }

        using var write = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=w.bin") { Content = new ByteArrayContent(new byte[300]) }, Ct);
        Assert.Equal(ErrorCodes.QuotaExceeded, await AtlasTestHost.ErrorCodeAsync(write));
        Assert.False(File.Exists(Path.Combine(host.DataDir, "files", client.Credentials.DeviceId, "w.bin")));
    }

    /// <summary>Regression: a device could open any number of upload sessions.</summary>
    [Fact]
    [Trait("Hardening", "1")]
    public async Task CreateUpload_MoreThanMaxOpenUploads_RefusedWithQuotaExceeded_UntilOneIsCancelled()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Files:MaxOpenUploads"] = "2" });
        using var client = await host.PairClientAsync();
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            using var ok = await CreateAsync(client, $"u{i}.bin", 10);
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
            ids.Add((await ok.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!.UploadId);
        }

        using (var third = await CreateAsync(client, "u2.bin", 10))
        {
            Assert.Equal(ErrorCodes.QuotaExceeded, await AtlasTestHost.ErrorCodeAsync(third));
        }

        using (var cancel = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "files/upload/sessions/" + ids[0]), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);
        }

        using var fourth = await CreateAsync(client, "u3.bin", 10);
        Assert.Equal(HttpStatusCode.Created, fourth.StatusCode);
    }

    /// <summary>Regression: a completion refused for quota kept its part file (and its session) for 24 h.</summary>
    [Fact]
    [Trait("Hardening", "1")]
    public async Task CompleteUpload_RefusedForQuota_DeletesPartAndReservation()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var deviceId = client.Credentials.DeviceId;
        var devices = host.Get<DeviceService>();
        await devices.SetPermissionsAsync(deviceId, [Permissions.FilesRead, Permissions.FilesWrite], 1000, Ct);
        var content = new byte[800];
        using var create = await CreateAsync(client, "shrunk.bin", content.Length);
        var id = (await create.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!.UploadId;
        await devices.SetPermissionsAsync(deviceId, [Permissions.FilesRead, Permissions.FilesWrite], 500, Ct);

        using var chunk = await ChunkAsync(client, id, content, 0, content.Length);
        Assert.Equal(ErrorCodes.QuotaExceeded, await AtlasTestHost.ErrorCodeAsync(chunk));
        Assert.Equal(0, DiskUsage(host, deviceId));
        using var status = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/upload/sessions/" + id), Ct);
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        using var fits = await CreateAsync(client, "fits.bin", 500);
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
    }

    /// <summary>Regression: an expired session kept its part (and would keep reserving) until the 10-minute sweep.</summary>
    [Fact]
    [Trait("Hardening", "1")]
    public async Task CreateUpload_AfterAnotherSessionExpired_ExpiredPartRemovedAndQuotaFreed()
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Files:UploadLifetime"] = "00:01:00" }, time);
        using var client = await host.PairClientAsync();
        var deviceId = client.Credentials.DeviceId;
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.FilesRead, Permissions.FilesWrite], 1000, Ct);
        var content = new byte[800];
        using var first = await CreateAsync(client, "old.bin", content.Length);
        var id = (await first.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!.UploadId;
        using (var chunk = await ChunkAsync(client, id, content, 0, 400))
        {
            Assert.Equal(HttpStatusCode.OK, chunk.StatusCode);
        }

        time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        using var second = await CreateAsync(client, "new.bin", content.Length);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.False(File.Exists(Path.Combine(host.DataDir, "uploads", deviceId, id + ".part")));
    }

    internal static Task<HttpResponseMessage> CreateAsync(AtlasClient client, string path, long size) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload/sessions")
        {
            Content = JsonContent.Create(new UploadCreateRequest(path, size), DesktopJsonContext.Default.UploadCreateRequest),
        }, Ct);

    internal static Task<HttpResponseMessage> ChunkAsync(AtlasClient client, string id, byte[] content, int from, int length)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "files/upload/sessions/" + id) { Content = new ByteArrayContent(content, from, length) };
        request.Content.Headers.ContentRange = new ContentRangeHeaderValue(from, from + length - 1, content.Length);
        return client.SendAsync(request, Ct);
    }

    /// <summary>Bytes the device holds on disk: its files plus its upload parts.</summary>
    private static long DiskUsage(AtlasTestHost host, string deviceId) =>
        new[] { Path.Combine(host.DataDir, "files", deviceId), Path.Combine(host.DataDir, "uploads", deviceId) }
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories))
            .Sum(f => new FileInfo(f).Length);
}
