using System.Diagnostics;
using System.Globalization;
using Mmcp.Client.Connectors;
using Mmcp.Client.Traffic;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Tests.Lifecycle;

/// <summary>
/// Tool calls over the hub's own stdio transport on a session before 2026-07-28, whose answers the transport's reader
/// matches (docs/mmcp-gateway.md, "Latency"): they keep every promise of the SDK client's way. The tests of this class
/// run one after another, so the count of matched answers moves only with their calls and those of other classes.
/// </summary>
public sealed class ReaderMatchedCallTests : IDisposable
{
    private const string Classic = "2025-11-25";
    private readonly TestEnvironment _env = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _env.Dispose();

    /// <summary>A call on a classic stdio session is answered through the hub's reader, with the same result.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    [Trait("Speed", "slow")]
    public async Task CallTool_ClassicStdioSession_AnswerIsMatchedByTheHubsReader()
    {
        await using var hub = await StartAsync("test.matched");
        var before = PipeClientTransport.AnswersMatched;

        var result = await hub.CallToolAsync("test.matched", "echo", new Dictionary<string, object?> { ["text"] = "hi" }, cancellationToken: Ct);

        Assert.Equal("echo: hi", HubToolResults.GetText(result));
        Assert.True(PipeClientTransport.AnswersMatched > before);
    }

    /// <summary>A server killed during a matched call fails it as a crash, with the hub's usual message, and the next call reaches the restarted server.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    [Trait("Speed", "slow")]
    public async Task CallTool_ServerKilledMidCall_FailsAsServerCrashedAndTheNextCallSucceeds()
    {
        await using var hub = await StartAsync("test.victim", o => o.CallTimeout = TimeSpan.FromMinutes(5));
        var pid = await PidAsync(hub, "test.victim");

        var call = hub.CallToolAsync("test.victim", "wait", new Dictionary<string, object?> { ["milliseconds"] = 600_000 }, cancellationToken: Ct).AsTask();
        Servers.Kill(pid);
        var error = await Assert.ThrowsAsync<HubException>(() => call.WaitAsync(TestTimeouts.Default, Ct));

        Assert.Equal(HubErrorCode.ServerCrashed, error.Code);
        Assert.Contains("during tools/call 'wait'", error.Message, StringComparison.Ordinal);
        Assert.Contains("not retried", error.Message, StringComparison.Ordinal);
        Assert.NotEqual(pid, await PidAsync(hub, "test.victim"));
    }

    /// <summary>A server that exits during a matched call: the failure keeps its exit code and standard error, as on the SDK's way.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    [Trait("Speed", "slow")]
    public async Task CallTool_ServerExitsMidCall_KeepsExitCodeAndStandardErrorTail()
    {
        await using var hub = await StartAsync("test.crasher");

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.crasher", "crash", new Dictionary<string, object?> { ["exitCode"] = 7, ["message"] = "out of cheese" }, cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.ServerCrashed, error.Code);
        Assert.Equal(7, error.Failure?.ExitCode);
        Assert.Contains("out of cheese", error.Failure!.StandardErrorTail);
    }

    /// <summary>A matched call the caller cancels throws at once, the server is told with notifications/cancelled naming the call, and the next call works.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    [Trait("Speed", "slow")]
    public async Task CallTool_CallerCancels_ServerIsToldAndTheNextCallSucceeds()
    {
        await using var hub = await StartAsync("test.cancel");
        var told = new TaskCompletionSource<RequestId>(TaskCreationOptions.RunContinuationsAsynchronously);
        var sent = new TaskCompletionSource<RequestId>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watch = hub.ObserveTraffic("test.cancel", e =>
        {
            if (e.Direction == TrafficDirection.ToServer && e.Message is JsonRpcRequest { Method: "tools/call" } request)
            {
                sent.TrySetResult(request.Id);
            }
            else if (e.Direction == TrafficDirection.ToServer && e.Message is JsonRpcNotification { Method: NotificationMethods.CancelledNotification, Params: { } p })
            {
                told.TrySetResult(new RequestId(p["requestId"]!.GetValue<string>()));
            }
        });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var call = hub.CallToolAsync("test.cancel", "wait", new Dictionary<string, object?> { ["milliseconds"] = 600_000 }, cancellationToken: cts.Token).AsTask();
        var id = await sent.Task.WaitAsync(TestTimeouts.Default, Ct);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TestTimeouts.Default, Ct));
        Assert.Equal(id, await told.Task.WaitAsync(TestTimeouts.Default, Ct));
        Assert.Equal("echo: after", HubToolResults.GetText(await hub.CallToolAsync("test.cancel", "echo", new Dictionary<string, object?> { ["text"] = "after" }, cancellationToken: Ct)));
    }

    /// <summary>A matched call that outlives its call budget fails with CallTimeout, and the server stays usable.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    [Trait("Speed", "slow")]
    public async Task CallTool_HungServer_TimesOutWithinTheCallBudget()
    {
        await using var hub = await StartAsync("test.hung", o => o.CallTimeout = TestTimeouts.Budget(TimeSpan.FromMilliseconds(500)));

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.hung", "hang", cancellationToken: Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct));

        Assert.Equal(HubErrorCode.CallTimeout, error.Code);
        Assert.Equal("echo: still", HubToolResults.GetText(await hub.CallToolAsync("test.hung", "echo", new Dictionary<string, object?> { ["text"] = "still" }, cancellationToken: Ct)));
    }

    /// <summary>Progress the server sends before its answer is reported, all of it and in order, by the time the matched call returns.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    [Trait("Speed", "slow")]
    public async Task CallTool_ProgressBeforeTheAnswer_IsReportedInOrderBeforeTheCallReturns()
    {
        await using var hub = await StartAsync("test.progress");
        var seen = new List<float>();

        var result = await hub.CallToolAsync("test.progress", "progress", new Dictionary<string, object?> { ["steps"] = 3, ["holdMilliseconds"] = 0 }, new SyncProgress(v => seen.Add(v.Progress)), Ct);

        Assert.Equal("done 3", HubToolResults.GetText(result));
        Assert.Equal([1f, 2f, 3f], seen);
    }

    /// <summary>An answer of a megabyte arrives whole through the reader.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    [Trait("Speed", "slow")]
    public async Task CallTool_LargeAnswer_ArrivesWhole()
    {
        await using var hub = await StartAsync("test.large");
        var text = string.Concat(Enumerable.Range(0, 100_000).Select(i => i.ToString("x8", CultureInfo.InvariantCulture)));

        var result = await hub.CallToolAsync("test.large", "echo", new Dictionary<string, object?> { ["text"] = text }, cancellationToken: Ct);

        Assert.Equal("echo: " + text, HubToolResults.GetText(result));
    }

    /// <summary>Sixteen matched calls at once each get their own answer.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    [Trait("Speed", "slow")]
    public async Task CallTool_SixteenConcurrentCalls_EachGetsItsOwnAnswer()
    {
        await using var hub = await StartAsync("test.many");

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            hub.CallToolAsync("test.many", "echo", new Dictionary<string, object?> { ["text"] = $"n{i}" }, cancellationToken: Ct).AsTask()))
            .WaitAsync(TestTimeouts.Default, Ct);

        Assert.Equal(Enumerable.Range(0, 16).Select(i => $"echo: n{i}"), results.Select(HubToolResults.GetText));
    }

    /// <summary>While someone listens to the SDK's spans, a call goes the SDK's way, so its span (and the trace context sent to the server) stay as they were.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    [Trait("Speed", "slow")]
    public async Task CallTool_SdkSpansListenedTo_GoesTheSdksWayWithItsSpan()
    {
        await using var hub = await StartAsync("test.traced");
        var spans = new List<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Experimental.ModelContextProtocol",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = a =>
            {
                lock (spans)
                {
                    spans.Add(a.DisplayName);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await hub.CallToolAsync("test.traced", "echo", new Dictionary<string, object?> { ["text"] = "traced" }, cancellationToken: Ct);

        lock (spans)
        {
            Assert.Contains("tools/call echo", spans);
        }
    }

    private async Task<MmcpHub> StartAsync(string id, Action<MmcpHubOptions>? configure = null)
    {
        await _env.WriteManifestAsync(Servers.Stdio(id, "--protocol", Classic));
        var hub = _env.CreateHub(o =>
        {
            o.ProtocolVersion = Classic;
            configure?.Invoke(o);
        });
        await hub.CallToolAsync(id, "echo", new Dictionary<string, object?> { ["text"] = "warm" }, cancellationToken: Ct);
        return hub;
    }

    private static async Task<int> PidAsync(MmcpHub hub, string serverId) =>
        int.Parse(HubToolResults.GetText(await hub.CallToolAsync(serverId, "pid", cancellationToken: Ct)), CultureInfo.InvariantCulture);

    private sealed class SyncProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }
}
