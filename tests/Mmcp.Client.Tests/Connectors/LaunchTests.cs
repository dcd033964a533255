using Mmcp.Core.Manifests;

namespace Mmcp.Client.Tests.Connectors;

/// <summary>On-demand launch: the socket is not listening, the manifest says how to start the app, the hub starts it detached.</summary>
[Trait("Speed", "slow")]
public sealed class LaunchTests : IDisposable
{
    private readonly TestEnvironment _env = new();
    private readonly List<int> _launched = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        foreach (var pid in _launched)
        {
            Servers.Kill(pid);
        }

        _env.Dispose();
    }

    [Fact]
    public async Task CallTool_SocketNotListening_LaunchesTheAppWhichOutlivesTheHub()
    {
        var socket = _env.SocketPath("launched");
        await _env.WriteManifestAsync(Servers.Manifest(
            "test.launched",
            new SocketTransport { Path = socket },
            new LaunchSpec { Command = "dotnet", Args = [Servers.TestServerDll, "socket", "--socket", socket] }));

        int pid;
        await using (var hub = _env.CreateHub())
        {
            var result = await hub.CallToolAsync("test.launched", "pid", cancellationToken: Ct);
            pid = int.Parse(HubToolResults.GetText(result), System.Globalization.CultureInfo.InvariantCulture);
            _launched.Add(pid);

            Assert.Equal(pid, hub.GetServerStatus("test.launched").LaunchedProcessId);
            Assert.NotEqual(Environment.ProcessId, pid);
        }

        Assert.True(Servers.IsRunning(pid), "the launched app must outlive the hub");

        // A second hub finds it listening and does not launch again.
        await using var second = _env.CreateHub();
        var again = await second.CallToolAsync("test.launched", "pid", cancellationToken: Ct);
        Assert.Equal(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), HubToolResults.GetText(again));
        Assert.Null(second.GetServerStatus("test.launched").LaunchedProcessId);
    }

    [Fact]
    public async Task Launch_AppExitsWithError_ReportsExitCodeAndLogTail()
    {
        await _env.WriteManifestAsync(Servers.Manifest(
            "test.badlaunch",
            new SocketTransport { Path = _env.SocketPath("bad") },
            new LaunchSpec { Command = "dotnet", Args = [Servers.TestServerDll, "exit", "4", "license expired"] }));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.badlaunch", "echo", cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.LaunchFailed, error.Code);
        Assert.Equal(4, error.Failure?.ExitCode);
        Assert.Contains("license expired", error.Failure!.StandardErrorTail);
    }

    [Fact]
    public async Task Launch_AppNeverListens_FailsWithinTheLaunchBudget()
    {
        await _env.WriteManifestAsync(Servers.Manifest(
            "test.nolisten",
            new SocketTransport { Path = _env.SocketPath("never") },
            new LaunchSpec { Command = "sleep", Args = ["600"] },
            new ServerTimeouts { Launch = TimeSpan.FromMilliseconds(500) }));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.nolisten", "echo", cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.LaunchFailed, error.Code);
        Assert.Contains("within its launch budget of 0.5 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Launch_ArgumentsWithShellSyntax_AreNeverInterpreted()
    {
        var marker = Path.Combine(_env.Root, "pwned");
        var socket = _env.SocketPath("quoted");
        await _env.WriteManifestAsync(Servers.Manifest(
            "test.quoted",
            new SocketTransport { Path = socket },
            new LaunchSpec { Command = "dotnet", Args = [Servers.TestServerDll, "socket", "--socket", socket, "--note", $"x; touch {marker}; $(touch {marker}) `touch {marker}`"] }));
        await using var hub = _env.CreateHub();

        var pid = int.Parse(HubToolResults.GetText(await hub.CallToolAsync("test.quoted", "pid", cancellationToken: Ct)), System.Globalization.CultureInfo.InvariantCulture);
        _launched.Add(pid);

        Assert.False(File.Exists(marker));
    }
}
