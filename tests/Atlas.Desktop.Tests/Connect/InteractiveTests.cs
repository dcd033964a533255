using Atlas.Client.Protocol;
using Atlas.Connect;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Connect;

/// <summary>The interactive terminal chat of <c>atlas connect</c>, driven line by line: dropped connections, Ctrl+C,
/// and messages typed while the desktop is away.</summary>
[Trait("Speed", "slow")]
public sealed class InteractiveTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Interactive_ConnectionDropsMidAnswer_ShowsReconnectingAndResumesWithoutGapsOrRepeats()
    {
        await using var chat = await ChatHost.StartAsync();
        using var connect = new ConnectProcess();
        var deviceId = await connect.PairAsync(chat.Host);
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(Gated(reached, gate));
        await using var running = connect.Start();
        await running.WaitForAsync("Connected to");

        await running.WriteLineAsync("tell me ten words");
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        await running.WaitForAsync("w4 ");
        await chat.Host.Get<ConnectionRegistry>().CloseDeviceAsync(deviceId, AtlasProtocol.CloseHeartbeatTimeout, ErrorCodes.Unauthorized);
        await running.WaitForAsync("reconnecting…");
        await running.WaitForAsync("reconnected.");
        gate.SetResult();
        await running.WaitForAsync("w9 ");
        await running.WriteLineAsync("/quit");

        Assert.Equal(ExitCodes.Ok, await running.WaitForExitAsync());
        var output = running.Stdout;
        var answer = output.Replace("\nreconnecting…\n", "", StringComparison.Ordinal).Replace("reconnected.\n", "", StringComparison.Ordinal);
        Assert.Contains(GatedText().TrimEnd(), answer, StringComparison.Ordinal);
        Assert.Single(chat.Fake.Requests);
    }

    [Fact]
    public async Task Interactive_CtrlCOnce_CancelsTheAnswerAndKeepsTheChatOpen()
    {
        await using var chat = await ChatHost.StartAsync();
        using var connect = new ConnectProcess();
        await connect.PairAsync(chat.Host);
        var reached = new TaskCompletionSource();
        chat.Fake.Enqueue(Gated(reached, new TaskCompletionSource()));
        await using var running = connect.Start();
        await running.WaitForAsync("Connected to");

        await running.WriteLineAsync("a long answer please");
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        await running.WaitForAsync("w4 ");
        await running.InterruptAsync();
        await running.WaitForAsync("(cancelled)");
        await chat.Fake.Requests[0].Aborted.WaitAsync(TestTimeouts.Default, Ct);

        // Still running: the next message is answered.
        await running.WriteLineAsync("after the cancel");
        await running.WaitForAsync("Echo: after the cancel");
        await running.WriteLineAsync("/quit");
        Assert.Equal(ExitCodes.Ok, await running.WaitForExitAsync());
    }

    [Fact]
    public async Task Interactive_CtrlCWhileIdle_Quits()
    {
        await using var chat = await ChatHost.StartAsync();
        using var connect = new ConnectProcess();
        await connect.PairAsync(chat.Host);
        await using var running = connect.Start();
        await running.WaitForAsync("Connected to");

        await running.InterruptAsync();

        Assert.Equal(ExitCodes.Interrupted, await running.WaitForExitAsync(endInput: false));
    }

    [Fact]
    public async Task Interactive_DesktopAwayThenBack_QueuedMessagesGoOutOnceInOneConversation()
    {
        await using var fake = await FakeOpenRouter.StartAsync(Ct);
        using var connect = new ConnectProcess();
        var (settings, dataDir) = await connect.PairWithStoppedDesktopAsync(fake);

        await using var running = connect.Start();
        await running.WaitForAsync("working offline");
        await running.WriteLineAsync("first while away");
        await running.WriteLineAsync("second while away");
        await running.WaitForAsync("waits in the outbox", times: 2);
        await running.WriteLineAsync("/status");
        await running.WaitForAsync("Outbox:       2 waiting");
        await running.WriteLineAsync("/files");
        await running.WaitForAsync("offline: this needs the desktop");

        await using var back = await AtlasTestHost.StartAsync(settings, dataDir: dataDir);
        back.DeleteDataDirOnDispose = true;
        await running.WaitForAsync("Echo: second while away");
        await running.WriteLineAsync("/list");
        await running.WaitForAsync("1. first while away");
        await running.WriteLineAsync("/quit");

        Assert.Equal(ExitCodes.Ok, await running.WaitForExitAsync());
        Assert.Equal(2, fake.CompletionCount);
        Assert.Equal(["first while away", "second while away"], fake.Requests[1].Messages
            .Where(m => (string?)m?["role"] == "user").Select(m => (string?)m?["content"]));
        Assert.DoesNotContain("2. ", running.Stdout[running.Stdout.LastIndexOf("1. first while away", StringComparison.Ordinal)..], StringComparison.Ordinal);
    }

    /// <summary>Regression (trial F5): a media refusal printed both codes, the pipeline's from the desktop's message and
    /// the protocol's after it: "… (unsupported_format) (unsupported_media).".</summary>
    [Fact]
    public async Task Interactive_MediaRefused_PrintsItsCodesOnce()
    {
        await using var chat = await ChatHost.StartAsync();
        using var connect = new ConnectProcess();
        await connect.PairAsync(chat.Host);
        await File.WriteAllTextAsync(Path.Combine(connect.WorkDir, "notes.txt"), "just some text, not media", Ct);

        var run = await connect.RunAsync([], "/put notes.txt", "/ocr notes.txt", "/quit");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var line = run.Stdout.Split('\n').Single(l => l.Contains("unsupported_media", StringComparison.Ordinal));
        Assert.EndsWith("(unsupported_media: unsupported_format).", line.TrimEnd(), StringComparison.Ordinal);
        Assert.Equal(line.IndexOf("unsupported_format", StringComparison.Ordinal), line.LastIndexOf("unsupported_format", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Interactive_DesktopAway_ListsAndOpensCachedConversations()
    {
        using var connect = new ConnectProcess();
        await using (var chat = await ChatHost.StartAsync())
        {
            await connect.PairAsync(chat.Host);
            var online = await connect.RunAsync([], "remember the milk", "/list", "/open 1", "/quit");
            Assert.Equal(ExitCodes.Ok, online.ExitCode);
            Assert.Contains("Echo: remember the milk", online.Stdout, StringComparison.Ordinal);
        }

        var offline = await connect.RunAsync([], "/list", "/open 1", "/quit");

        Assert.Equal(ExitCodes.Ok, offline.ExitCode);
        Assert.Contains("working offline", offline.Stdout, StringComparison.Ordinal);
        Assert.Contains("(offline: the list as of the last connection)", offline.Stdout, StringComparison.Ordinal);
        Assert.Contains("1. remember the milk", offline.Stdout, StringComparison.Ordinal);
        Assert.Contains("(cached):", offline.Stdout, StringComparison.Ordinal);
        Assert.Contains("atlas: Echo: remember the milk", offline.Stdout, StringComparison.Ordinal);
    }
}
