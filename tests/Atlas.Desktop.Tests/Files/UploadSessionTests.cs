using System.Net;
using System.Net.Http.Json;
using System.Text;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Files;

/// <summary>Upload sessions: a doomed one is refused before any byte is sent.</summary>
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
}
