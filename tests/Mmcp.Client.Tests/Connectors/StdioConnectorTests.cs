using System.Text.Json;
using Mmcp.Core.Manifests;
using ModelContextProtocol;

namespace Mmcp.Client.Tests.Connectors;

[Trait("Speed", "slow")]
public sealed class StdioConnectorTests : IDisposable
{
    private readonly TestEnvironment _env = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _env.Dispose();

    [Fact]
    public async Task CallTool_StdioServer_StartsItLazilyAndAnswers()
    {
        await _env.WriteManifestAsync(Servers.Stdio("test.stdio"));
        await using var hub = _env.CreateHub();

        Assert.Equal(ServerState.Disconnected, (await hub.DiscoverServersAsync(Ct)).Servers.Single().Status.State);
        var result = await hub.CallToolAsync("test.stdio", "echo", new Dictionary<string, object?> { ["text"] = "hi" }, cancellationToken: Ct);

        Assert.Equal("echo: hi", HubToolResults.GetText(result));
        var status = hub.GetServerStatus("test.stdio");
        Assert.Equal(ServerState.Connected, status.State);
        Assert.Equal("io.mmcp.tests.server", status.ServerInfo?.Name);
    }

    [Fact]
    public async Task CallTool_WithProgress_PassesNotificationsThrough()
    {
        await _env.WriteManifestAsync(Servers.Stdio("test.stdio"));
        await using var hub = _env.CreateHub();
        var first = new TaskCompletionSource<ProgressNotificationValue>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        // The call stays open after reporting: progress that arrives after a result may be dropped (SDK behaviour), so it is awaited while the call runs.
        var call = hub.CallToolAsync("test.stdio", "progress", new Dictionary<string, object?> { ["steps"] = 3, ["holdMilliseconds"] = 600_000 }, new SyncProgress(v => first.TrySetResult(v)), cts.Token).AsTask();
        var progress = await first.Task.WaitAsync(TestTimeouts.Default, Ct);
        await cts.CancelAsync();

        Assert.Equal((3f, 1f), (progress.Total!.Value, progress.Progress));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        var done = await hub.CallToolAsync("test.stdio", "progress", new Dictionary<string, object?> { ["steps"] = 2 }, cancellationToken: Ct);
        Assert.Equal("done 2", HubToolResults.GetText(done));
    }

    [Fact]
    public async Task CallTool_WithProgress_ReportsEveryStepInOrder_BeforeItReturns()
    {
        await _env.WriteManifestAsync(Servers.Stdio("test.stdio"));
        await using var hub = _env.CreateHub();
        var seen = new List<float>();

        // The server sends its three notifications and then the result at once. Progress is routed as the hub reads
        // it, so all of it is reported, in order, by the time the call returns (a caller relaying it must not lose the last).
        var result = await hub.CallToolAsync("test.stdio", "progress", new Dictionary<string, object?> { ["steps"] = 3, ["holdMilliseconds"] = 0 },
            new SyncProgress(v => seen.Add(v.Progress)), Ct);

        Assert.Equal("done 3", HubToolResults.GetText(result));
        Assert.Equal([1f, 2f, 3f], seen);
    }

    /// <summary>A caller that takes the params as JSON gets them as the server wrote them: a vendor's field and _meta included.</summary>
    [Fact]
    public async Task CallTool_WithJsonProgress_ReportsTheServersParamsAsWritten()
    {
        await _env.WriteManifestAsync(Servers.Stdio("test.stdio"));
        await using var hub = _env.CreateHub();
        var seen = new List<System.Text.Json.Nodes.JsonObject>();
        var typed = 0;

        await hub.CallToolAsync("test.stdio", "progress", new Dictionary<string, object?> { ["steps"] = 2, ["vendor"] = "v" }, new JsonProgress(seen.Add, () => typed++), Ct);

        Assert.Equal(0, typed);
        Assert.Equal(2, seen.Count);
        Assert.Equal(["v", "v"], seen.Select(p => (string?)p["x-vendor"]));
        Assert.Equal([1, 2], seen.Select(p => (int?)p["_meta"]?["io.example/step"]));
        Assert.Equal([1, 2], seen.Select(p => (int?)p["progress"]));
        Assert.All(seen, p => Assert.StartsWith("mmcp-progress-", (string?)p["progressToken"], StringComparison.Ordinal));
    }

    /// <summary>
    /// Regression: a server's -32602 about its own result (its structuredContent against its outputSchema) was reported
    /// as the server having "rejected the arguments"; the message now says what the server answered.
    /// </summary>
    [Fact]
    public async Task CallTool_ServerAnswersInvalidParamsAboutItsResult_MessageSaysWhatTheServerAnswered()
    {
        await _env.WriteManifestAsync(Servers.Stdio("test.stdio"));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(async () => await hub.CallToolAsync("test.stdio", "fail", new Dictionary<string, object?> { ["message"] = OutputInvalid, ["code"] = -32602 }, cancellationToken: Ct));

        Assert.DoesNotContain("rejected the arguments", error.Message, StringComparison.Ordinal);
        Assert.Equal(HubErrorCode.InvalidArguments, error.Code);
        Assert.StartsWith("Server 'test.stdio' answered tools/call 'fail' with JSON-RPC error -32602 (invalid params): ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(OutputInvalid, error.Message, StringComparison.Ordinal);
    }

    /// <summary>What a server that checks its structured content against its output schema answers with -32602.</summary>
    private const string OutputInvalid = "Output validation error: Invalid structured content for tool fail: must have required property 'a'";

    [Fact]
    public async Task CallTool_CancelledByCaller_ThrowsOperationCanceledAndTheServerStaysUsable()
    {
        await _env.WriteManifestAsync(Servers.Stdio("test.stdio"));
        await using var hub = _env.CreateHub();
        await hub.CallToolAsync("test.stdio", "echo", new Dictionary<string, object?> { ["text"] = "warm" }, cancellationToken: Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var call = hub.CallToolAsync("test.stdio", "wait", new Dictionary<string, object?> { ["milliseconds"] = 600_000 }, cancellationToken: cts.Token).AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        var after = await hub.CallToolAsync("test.stdio", "echo", new Dictionary<string, object?> { ["text"] = "still here" }, cancellationToken: Ct);
        Assert.Equal("echo: still here", HubToolResults.GetText(after));
    }

    [Fact]
    public async Task Start_EnvReferenceToUnsetVariable_FailsNamingTheVariable()
    {
        await _env.WriteManifestAsync(Servers.Manifest("needs.env", new StdioTransport
        {
            Command = "dotnet",
            Args = [Servers.TestServerDll, "stdio"],
            Env = new Dictionary<string, string> { ["API_KEY"] = "${env:MMCP_TEST_UNSET_KEY}" },
        }));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("needs.env", "echo", new Dictionary<string, object?> { ["text"] = "x" }, cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.ConfigurationError, error.Code);
        Assert.Equal("needs.env", error.ServerId);
        Assert.Contains("MMCP_TEST_UNSET_KEY", error.Message, StringComparison.Ordinal);
        Assert.Contains("transport.env.API_KEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_InputReference_ResolvedFromMmcpInputVariable()
    {
        await _env.WriteManifestAsync(Servers.Manifest("needs.input", new StdioTransport
        {
            Command = "dotnet",
            Args = [Servers.TestServerDll, "stdio"],
            Env = new Dictionary<string, string> { ["API_KEY"] = "${input:api-key}" },
        }));
        await using var hub = _env.CreateHub();

        var missing = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("needs.input", "get_env", new Dictionary<string, object?> { ["name"] = "API_KEY" }, cancellationToken: Ct).AsTask());
        Assert.Equal(HubErrorCode.ConfigurationError, missing.Code);
        Assert.Contains("MMCP_INPUT_API_KEY", missing.Message, StringComparison.Ordinal);

        _env.Set("MMCP_INPUT_API_KEY", "s3cret");
        var result = await hub.CallToolAsync("needs.input", "get_env", new Dictionary<string, object?> { ["name"] = "API_KEY" }, cancellationToken: Ct);
        Assert.Equal("s3cret", HubToolResults.GetText(result));
    }

    [Fact]
    public async Task Start_CommandNotOnPath_FailsWithLaunchFailed()
    {
        await _env.WriteManifestAsync(Servers.Manifest("missing.command", new StdioTransport { Command = "mmcp-no-such-program-xyz" }));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("missing.command", "echo", new Dictionary<string, object?> { ["text"] = "x" }, cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.LaunchFailed, error.Code);
        Assert.Contains("'mmcp-no-such-program-xyz' was not found on PATH", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ServerExitsAtOnce_ReportsExitCodeAndStandardError()
    {
        await _env.WriteManifestAsync(Servers.Manifest("test.exits", new StdioTransport { Command = "dotnet", Args = [Servers.TestServerDll, "exit", "3", "config file /etc/nope is missing"] }));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.exits", "echo", new Dictionary<string, object?> { ["text"] = "x" }, cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.LaunchFailed, error.Code);
        Assert.Equal(3, error.Failure?.ExitCode);
        Assert.Contains("config file /etc/nope is missing", error.Failure!.StandardErrorTail);
        Assert.Contains("config file /etc/nope is missing", error.Message, StringComparison.Ordinal);
        Assert.Equal(HubErrorCode.LaunchFailed, hub.GetServerStatus("test.exits").LastFailure?.Code);
    }

    [Fact]
    public async Task Handshake_SilentServer_TimesOutWithinBudgetAndTheHubStaysUsable()
    {
        await _env.WriteManifestAsync(Servers.Manifest(
            "test.silent",
            new StdioTransport { Command = "dotnet", Args = [Servers.TestServerDll, "silent"] },
            timeouts: new ServerTimeouts { Launch = TimeSpan.FromSeconds(1), Handshake = TimeSpan.FromSeconds(1) }));
        await _env.WriteManifestAsync(Servers.Stdio("test.healthy"));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.silent", "echo", new Dictionary<string, object?> { ["text"] = "x" }, cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.HandshakeTimeout, error.Code);
        Assert.Contains("timeouts.handshake", error.Message, StringComparison.Ordinal);
        var ok = await hub.CallToolAsync("test.healthy", "echo", new Dictionary<string, object?> { ["text"] = "fine" }, cancellationToken: Ct);
        Assert.Equal("echo: fine", HubToolResults.GetText(ok));
    }

    [Fact]
    public async Task CallTool_ArgumentsAsJsonElements_ArePassedUnchanged()
    {
        await _env.WriteManifestAsync(Servers.Stdio("test.stdio"));
        await using var hub = _env.CreateHub();
        using var args = JsonDocument.Parse("""{"a": 40, "b": 2}""");

        var result = await hub.CallToolAsync("test.stdio", "add", args.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value), cancellationToken: Ct);

        Assert.Equal("42", HubToolResults.GetText(result));
    }

    private sealed class SyncProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }

    private sealed class JsonProgress(Action<System.Text.Json.Nodes.JsonObject> report, Action typed) : IProgress<ProgressNotificationValue>, IProgress<System.Text.Json.Nodes.JsonObject>
    {
        public void Report(ProgressNotificationValue value) => typed();

        public void Report(System.Text.Json.Nodes.JsonObject value) => report(value);
    }
}
