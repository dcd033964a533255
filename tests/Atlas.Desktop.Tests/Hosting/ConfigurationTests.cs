using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Tests.Hosting;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Atlas:Pairing:Approval", "sometimes", "'prompt'")]
    [InlineData("Atlas:Port", "70000", "between 1 and 65535")]
    [InlineData("Atlas:Pairing:TicketLifetime", "-00:01:00", "positive duration")]
    [InlineData("Atlas:Pairing:DefaultPermissions:0", "root", "valid:")]
    [InlineData("Atlas:Certificate:Path", "/nonexistent/cert.pem", "does not exist")]
    [InlineData("Atlas:WebSocket:MaxFrameBytes", "10", "between 4096")]
    public void InvalidSetting_FailsAtStartupWithHowToFix(string key, string value, string hint)
    {
        var error = Assert.Throws<OptionsValidationException>(() => AtlasApp.Build([], new Dictionary<string, string?>
        {
            ["Atlas:DataDir"] = Path.Combine(Path.GetTempPath(), "atl-cfg-" + Guid.NewGuid().ToString("N")[..6]),
            [key] = value,
        }));
        Assert.Contains(hint, string.Join('\n', error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restart_KeepsIdentityPinAndDevices()
    {
        string dataDir, pin, deviceId;
        await using (var first = await AtlasTestHost.StartAsync())
        {
            dataDir = first.DataDir;
            pin = first.Pin;
            deviceId = (await first.PairAsync()).DeviceId;
            await first.App.StopAsync(TestContext.Current.CancellationToken);
            CopyDirectory(dataDir, dataDir + "-copy");
        }

        await using var second = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:DataDir"] = dataDir + "-copy" });
        Assert.Equal(pin, second.Pin);
        Assert.NotNull(await second.Get<Storage.IDeviceStore>().GetAsync(deviceId, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task SecondInstanceOnSameDataDirectory_IsRefusedClearly()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var error = Assert.Throws<InvalidOperationException>(() => AtlasApp.Build([], new Dictionary<string, string?>
        {
            ["Atlas:DataDir"] = host.DataDir,
            ["Atlas:Port"] = "0",
            ["Atlas:Network:Lan"] = "false",
        }));
        Assert.Contains("already running", error.Message, StringComparison.Ordinal);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".sock", StringComparison.Ordinal)))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }
}
