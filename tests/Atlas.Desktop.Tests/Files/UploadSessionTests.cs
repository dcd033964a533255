using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Files;

/// <summary>Upload sessions: a doomed one is refused before any byte is sent; a device can list its own open ones.</summary>
public sealed class UploadSessionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Regression: with overwrite=false (the default) a session opened for an existing target, took every byte,
    /// and only the completing chunk answered already_exists.</summary>
    [Fact]
    public async Task CreateUpload_TargetExistsWithoutOverwrite_RefusedAtCreationWithAlreadyExists()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        using (var write = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=taken.txt")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("mine")),
        }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        }

        using var create = await UploadQuotaTests.CreateAsync(client, "taken.txt", 10);

        Assert.Equal(HttpStatusCode.Conflict, create.StatusCode);
        Assert.Equal(ErrorCodes.AlreadyExists, await AtlasTestHost.ErrorCodeAsync(create));
        Assert.False(Directory.Exists(Path.Combine(host.DataDir, "uploads", client.Credentials.DeviceId))
            && Directory.EnumerateFiles(Path.Combine(host.DataDir, "uploads", client.Credentials.DeviceId)).Any());
    }

    /// <summary>The check at creation does not replace the one at completion: a file that appears meanwhile still wins.</summary>
    [Fact]
    public async Task CompleteUpload_TargetAppearedMeanwhile_RefusedWithAlreadyExists()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        using var create = await UploadQuotaTests.CreateAsync(client, "late.txt", 4);
        var id = (await create.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!.UploadId;
        using (var write = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=late.txt")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("mine")),
        }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        }

        using var chunk = await UploadQuotaTests.ChunkAsync(client, id, [1, 2, 3, 4], 0, 4);

        Assert.Equal(ErrorCodes.AlreadyExists, await AtlasTestHost.ErrorCodeAsync(chunk));
        Assert.Equal("mine", await File.ReadAllTextAsync(Path.Combine(host.DataDir, "files", client.Credentials.DeviceId, "late.txt"), Ct));
    }

    /// <summary>Regression: open sessions could not be listed (404), so a client that lost its upload ids was blocked by
    /// "finish or cancel one first" with its quota reserved for 24 h.</summary>
    [Fact]
    public async Task ListUploads_ShowsTheDevicesOwnOpenSessions_NotAnotherDevices()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync("A");
        using var other = await host.PairClientAsync("B");
        using var create = await UploadQuotaTests.CreateAsync(client, "video/clip.mp4", 10);
        var id = (await create.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!.UploadId;
        using (var chunk = await UploadQuotaTests.ChunkAsync(client, id, new byte[10], 0, 4))
        {
            Assert.Equal(HttpStatusCode.OK, chunk.StatusCode);
        }

        using (var theirs = await UploadQuotaTests.CreateAsync(other, "theirs.bin", 10))
        {
            Assert.Equal(HttpStatusCode.Created, theirs.StatusCode);
        }

        using var list = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/upload/sessions"), Ct);

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var sessions = (await list.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("sessions");
        var session = Assert.Single(sessions.EnumerateArray());
        Assert.Equal(id, session.GetProperty("uploadId").GetString());
        Assert.Equal("video/clip.mp4", session.GetProperty("path").GetString());
        Assert.Equal(10, session.GetProperty("size").GetInt64());
        Assert.Equal(4, session.GetProperty("received").GetInt64());
        Assert.True(session.GetProperty("expiresAt").GetDateTimeOffset() > session.GetProperty("createdAt").GetDateTimeOffset());

        // Cancelled sessions are gone from the list.
        using (var cancel = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "files/upload/sessions/" + id), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);
        }

        using var after = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/upload/sessions"), Ct);
        Assert.Empty((await after.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("sessions").EnumerateArray());
    }
}
