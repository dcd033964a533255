using Atlas.Client.Credentials;

namespace Atlas.Client.Tests.Credentials;

public sealed class FileCredentialStoreTests
{
    [Fact]
    public async Task SaveLoadDelete_RoundTrips_WithUserOnlyFile()
    {
        var directory = Path.Combine(Path.GetTempPath(), "atl-cred-" + Guid.NewGuid().ToString("N")[..8], "nested");
        var store = new FileCredentialStore(Path.Combine(directory, "device.json"));
        var ct = TestContext.Current.CancellationToken;
        Assert.Null(await store.LoadAsync(ct));
        var credentials = new DeviceCredentials(new Uri("https://192.168.1.23:47321/"), "pin", "dev_1", "dev_1.secret", "Desk");
        await store.SaveAsync(credentials, ct);
        Assert.Equal(credentials, await store.LoadAsync(ct));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, "device.json")));
        }

        Assert.DoesNotContain("dev_1.secret", credentials.ToString(), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(directory));
        await store.DeleteAsync(ct);
        Assert.Null(await store.LoadAsync(ct));
        Directory.Delete(Path.GetDirectoryName(directory)!, recursive: true);
    }
}
