using Mmcp.Core.Manifests;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Tests.Interop;

/// <summary>The official TypeScript reference servers, as real child processes, through the hub.</summary>
[Trait("Speed", "slow")]
public sealed class ReferenceServerTests : IDisposable
{
    private readonly TestEnvironment _env = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _env.Dispose();

    [Fact]
    public async Task Everything_OverStdio_ToolsResourcesPromptsAndProgress()
    {
        await _env.WriteManifestAsync(Servers.Manifest("io.github.everything", new StdioTransport { Command = "node", Args = [Servers.NpmServer("server-everything"), "stdio"] }));
        await using var hub = _env.CreateHub();

        var tools = await hub.ListToolsAsync(cancellationToken: Ct);
        var sum = await hub.CallToolAsync("io.github.everything", "get-sum", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 }, cancellationToken: Ct);
        var echo = await hub.CallToolAsync("io_github_everything__echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: Ct);
        var first = new TaskCompletionSource<ProgressNotificationValue>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var longRun = hub.CallToolAsync("io.github.everything", "trigger-long-running-operation", new Dictionary<string, object?> { ["duration"] = 600, ["steps"] = 600 }, new Reporter(v => first.TrySetResult(v)), cts.Token).AsTask();
        var progress = await first.Task.WaitAsync(TestTimeouts.Default, Ct);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => longRun);
        var resources = await hub.ListResourcesAsync("io.github.everything", Ct);
        var read = await hub.ReadResourceAsync("io.github.everything", resources.Resources[0].Resource.Uri, Ct);
        var prompt = await hub.GetPromptAsync("io.github.everything", "args-prompt", new Dictionary<string, object?> { ["city"] = "Oslo" }, Ct);

        Assert.Contains(tools.Tools, t => t.Name == "io_github_everything__get-sum" && t.Source == ListSource.Live);
        Assert.Equal("The sum of 2 and 3 is 5.", HubToolResults.GetText(sum));
        Assert.Equal("Echo: hi", HubToolResults.GetText(echo));
        Assert.Equal(600f, progress.Total);
        Assert.NotEmpty(read.Contents);
        Assert.Contains("Oslo", string.Join(" ", prompt.Messages.Select(m => (m.Content as TextContentBlock)?.Text)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Everything_InvalidArguments_AreReportedClearly()
    {
        await _env.WriteManifestAsync(Servers.Manifest("io.github.everything", new StdioTransport { Command = "node", Args = [Servers.NpmServer("server-everything"), "stdio"] }));
        await using var hub = _env.CreateHub();

        var outcome = await Record.ExceptionAsync(async () =>
        {
            var result = await hub.CallToolAsync("io.github.everything", "get-sum", new Dictionary<string, object?> { ["a"] = "two" }, cancellationToken: Ct);
            Assert.True(result.IsError, HubToolResults.GetText(result));
        });

        Assert.True(outcome is null or HubException { Code: HubErrorCode.InvalidArguments }, outcome?.ToString());
    }

    [Fact]
    public async Task Filesystem_OverStdio_ReadsOnlyInsideItsRoot()
    {
        var shared = Directory.CreateDirectory(Path.Combine(_env.Root, "shared")).FullName;
        await File.WriteAllTextAsync(Path.Combine(shared, "notes.txt"), "remember the milk", Ct);
        await File.WriteAllTextAsync(Path.Combine(_env.Root, "secret.txt"), "TOP-SECRET-CONTENT", Ct);
        await _env.WriteManifestAsync(Servers.Manifest("io.github.filesystem", new StdioTransport { Command = "node", Args = [Servers.NpmServer("server-filesystem"), shared] }));
        await using var hub = _env.CreateHub();

        var listing = await hub.CallToolAsync("io.github.filesystem", "list_directory", new Dictionary<string, object?> { ["path"] = shared }, cancellationToken: Ct);
        var read = await hub.CallToolAsync("io.github.filesystem", "read_text_file", new Dictionary<string, object?> { ["path"] = Path.Combine(shared, "notes.txt") }, cancellationToken: Ct);
        var outside = await hub.CallToolAsync("io.github.filesystem", "read_text_file", new Dictionary<string, object?> { ["path"] = Path.Combine(_env.Root, "secret.txt") }, cancellationToken: Ct);

        Assert.Contains("notes.txt", HubToolResults.GetText(listing), StringComparison.Ordinal);
        Assert.Equal("remember the milk", HubToolResults.GetText(read));
        Assert.True(outside.IsError);
        Assert.DoesNotContain("TOP-SECRET-CONTENT", HubToolResults.GetText(outside), StringComparison.Ordinal);
    }

    private sealed class Reporter(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }
}
