using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Mmcp.Core.Manifests;

namespace Mmcp.Client.Tests.Lifecycle;

[Trait("Speed", "slow")]
public sealed class CrashRecoveryTests : IDisposable
{
    private readonly TestEnvironment _env = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _env.Dispose();

    [Fact]
    public async Task CallTool_ServerKilledMidCall_ClearErrorWithinBudgetAndTheNextCallSucceeds()
    {
        await _env.WriteManifestAsync(Servers.Stdio("test.victim"));
        await using var hub = _env.CreateHub(o => o.CallTimeout = TimeSpan.FromSeconds(30));
        var pid = await PidAsync(hub, "test.victim");

        var call = hub.CallToolAsync("test.victim", "wait", new Dictionary<string, object?> { ["milliseconds"] = 600_000 }, cancellationToken: Ct).AsTask();
        Servers.Kill(pid);
        var error = await Assert.ThrowsAsync<HubException>(() => call.WaitAsync(TestTimeouts.Default, Ct));

        Assert.Equal(HubErrorCode.ServerCrashed, error.Code);
        Assert.Equal("test.victim", error.ServerId);
        Assert.Contains("during tools/call 'wait'", error.Message, StringComparison.Ordinal);
        Assert.Contains("not retried", error.Message, StringComparison.Ordinal);
        var next = await PidAsync(hub, "test.victim");
        Assert.NotEqual(pid, next);
        Assert.Equal(HubErrorCode.ServerCrashed, hub.GetServerStatus("test.victim").LastFailure?.Code);
        Assert.Equal(0, hub.GetServerStatus("test.victim").ConsecutiveFailures);
    }

    [Fact]
    public async Task CallTool_ServerExitsMidCall_KeepsExitCodeAndStandardErrorTail()
    {
        await _env.WriteManifestAsync(Servers.Stdio("test.crasher"));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.crasher", "crash", new Dictionary<string, object?> { ["exitCode"] = 7, ["message"] = "out of cheese" }, cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.ServerCrashed, error.Code);
        Assert.Equal(7, error.Failure?.ExitCode);
        Assert.Contains("out of cheese", error.Failure!.StandardErrorTail);
        Assert.Contains("exited with code 7", error.Message, StringComparison.Ordinal);
        var status = hub.GetServerStatus("test.crasher");
        Assert.Equal(7, status.LastFailure?.ExitCode);
        Assert.Equal("echo: back", HubToolResults.GetText(await hub.CallToolAsync("test.crasher", "echo", new Dictionary<string, object?> { ["text"] = "back" }, cancellationToken: Ct)));
    }

    /// <summary>The crash report quotes the last line the server wrote, even when it wrote a burst of standard error
    /// just before it exited (the exit used to be reported before the reader of standard error had caught up).</summary>
    [Fact]
    public async Task CallTool_ServerWritesABurstThenExits_TheReportQuotesItsLastLine()
    {
        await _env.WriteManifestAsync(Servers.Stdio("test.crasher"));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.crasher", "crash", new Dictionary<string, object?> { ["exitCode"] = 3, ["message"] = "the last words", ["before"] = 20_000 }, cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.ServerCrashed, error.Code);
        Assert.Contains("exited with code 3; its last output: the last words", error.Message, StringComparison.Ordinal);
        Assert.Equal("the last words", error.Failure!.StandardErrorTail[^1]);
    }

    [Fact]
    public async Task CallTool_HungServer_TimesOutAndTheServerAndHubStayUsable()
    {
        // The echo calls before and after the hang run under the same budget: scaled to the machine's load so that
        // they fit on a busy machine (it was a fixed 0.5 s, which an echo call overran at load average 15).
        var budget = TestTimeouts.Budget(TimeSpan.FromMilliseconds(500));
        await _env.WriteManifestAsync(Servers.Manifest(
            "test.hung",
            new StdioTransport { Command = "dotnet", Args = [Servers.TestServerDll, "stdio"] },
            timeouts: new ServerTimeouts { Call = budget }));
        await _env.WriteManifestAsync(Servers.Stdio("test.other"));
        await using var hub = _env.CreateHub();
        await hub.CallToolAsync("test.hung", "echo", new Dictionary<string, object?> { ["text"] = "warm" }, cancellationToken: Ct);

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.hung", "hang", cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.CallTimeout, error.Code);
        Assert.Contains(FormattableString.Invariant($"within its call budget of {budget.TotalSeconds:0.###} s"), error.Message, StringComparison.Ordinal);
        Assert.Equal("echo: alive", HubToolResults.GetText(await hub.CallToolAsync("test.hung", "echo", new Dictionary<string, object?> { ["text"] = "alive" }, cancellationToken: Ct)));
        Assert.Equal("echo: fine", HubToolResults.GetText(await hub.CallToolAsync("test.other", "echo", new Dictionary<string, object?> { ["text"] = "fine" }, cancellationToken: Ct)));
        Assert.Equal(ServerState.Connected, hub.GetServerStatus("test.hung").State);
    }

    [Fact]
    public async Task Connect_RepeatedFailures_BackOffWithTheReasonKept()
    {
        await _env.WriteManifestAsync(Servers.Manifest("test.broken", new StdioTransport { Command = "dotnet", Args = [Servers.TestServerDll, "exit", "9", "broken install"] }));
        await using var hub = _env.CreateHub(o =>
        {
            o.RestartBackoff = TimeSpan.FromMinutes(2);
            o.MaxRestartBackoff = TimeSpan.FromMinutes(10);
        });
        var echo = new Dictionary<string, object?> { ["text"] = "x" };

        var first = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.broken", "echo", echo, cancellationToken: Ct).AsTask());
        var second = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.broken", "echo", echo, cancellationToken: Ct).AsTask());
        var status = hub.GetServerStatus("test.broken");
        var third = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.broken", "echo", echo, cancellationToken: Ct).AsTask());

        Assert.All([first, second, third], e => Assert.Equal(HubErrorCode.LaunchFailed, e.Code));
        Assert.Equal(ServerState.BackingOff, status.State);
        Assert.Equal(2, status.ConsecutiveFailures);
        Assert.InRange(status.RetryAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(50), TimeSpan.FromMinutes(2));
        Assert.Contains("failed 2 times in a row; the hub tries again in", third.Message, StringComparison.Ordinal);
        Assert.Contains("broken install", third.Message, StringComparison.Ordinal);
        Assert.Equal(9, third.Failure?.ExitCode);
    }

    [Fact]
    public async Task ConcurrentCallers_FirstUse_ShareOneConnectionAndAllSucceed()
    {
        await _env.WriteManifestAsync(Servers.Stdio("test.busy"));
        await using var hub = _env.CreateHub();

        var calls = Enumerable.Range(0, 40).Select(async i =>
        {
            var echo = await hub.CallToolAsync("test.busy", "echo", new Dictionary<string, object?> { ["text"] = $"n{i}" }, cancellationToken: Ct);
            var pid = await hub.CallToolAsync("test.busy", "pid", cancellationToken: Ct);
            return (Echo: HubToolResults.GetText(echo), Pid: HubToolResults.GetText(pid));
        }).ToList();
        var results = await Task.WhenAll(calls);

        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"echo: n{i}"), results.Select(r => r.Echo));
        Assert.Single(results.Select(r => r.Pid).Distinct());
    }

    [Fact]
    public async Task Idle_AfterTheIdleBudget_DisconnectsAndTheNextUseReconnects()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await _env.WriteManifestAsync(Servers.Stdio("test.idle"));
        await using var hub = _env.CreateHub(o => o.IdleTimeout = TimeSpan.FromMinutes(5), time);
        var pid = await PidAsync(hub, "test.idle");

        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(ServerState.Connected, hub.GetServerStatus("test.idle").State);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(ServerState.Disconnected, hub.GetServerStatus("test.idle").State);

        var next = await PidAsync(hub, "test.idle");
        Assert.NotEqual(pid, next);
        Assert.Null(hub.GetServerStatus("test.idle").LastFailure);
    }

    private static async Task<int> PidAsync(MmcpHub hub, string serverId) =>
        int.Parse(HubToolResults.GetText(await hub.CallToolAsync(serverId, "pid", cancellationToken: Ct)), CultureInfo.InvariantCulture);
}
