using System.Text.Json;
using Mmcp.Core.Manifests;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Tests.Catalog;

[Trait("Speed", "slow")]
public sealed class ToolListingTests : IDisposable
{
    private readonly TestEnvironment _env = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _env.Dispose();

    [Fact]
    public async Task ListTools_AcrossServers_AggregatedNamesAndPerServerFailures()
    {
        await _env.WriteManifestAsync(Servers.Stdio("io.example.alpha"));
        await _env.WriteManifestAsync(Servers.Stdio("io.example.beta"));
        await _env.WriteManifestAsync(Servers.Manifest("io.example.broken", new StdioTransport { Command = "mmcp-missing-binary" }));
        await using var hub = _env.CreateHub();

        var listing = await hub.ListToolsAsync(cancellationToken: Ct);

        Assert.Contains(listing.Tools, t => t.Name == "io_example_alpha__echo" && t.ServerId == "io.example.alpha" && t.ToolName == "echo" && t.Source == ListSource.Live);
        Assert.Contains(listing.Tools, t => t.Name == "io_example_beta__add_tool");
        Assert.Equal(listing.Tools.Select(t => t.Name).Order(StringComparer.Ordinal), listing.Tools.Select(t => t.Name));
        var broken = Assert.Single(listing.Failures);
        Assert.Equal(("io.example.broken", ListSource.None, HubErrorCode.LaunchFailed), (broken.ServerId, broken.Source, broken.Failure!.Code));
        Assert.Equal(3, listing.Servers.Count);
    }

    [Fact]
    public async Task CallTool_ByAggregatedName_ResolvesToTheServerAndTool()
    {
        await _env.WriteManifestAsync(Servers.Stdio("io.example.alpha"));
        await using var hub = _env.CreateHub();

        var result = await hub.CallToolAsync("io_example_alpha__echo", new Dictionary<string, object?> { ["text"] = "by name" }, cancellationToken: Ct);
        var unknown = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("io_example_alpha__nope", arguments: null, cancellationToken: Ct).AsTask());

        Assert.Equal("echo: by name", HubToolResults.GetText(result));
        Assert.Equal(HubErrorCode.UnknownTool, unknown.Code);
    }

    [Fact]
    public async Task CallTool_UnknownServerOrTool_NamesWhatExists()
    {
        await _env.WriteManifestAsync(Servers.Stdio("io.example.alpha"));
        await using var hub = _env.CreateHub();

        var server = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("io.example.nobody", "echo", cancellationToken: Ct).AsTask());
        var tool = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("io.example.alpha", "ehco", cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.UnknownServer, server.Code);
        Assert.Contains("Known servers: io.example.alpha", server.Message, StringComparison.Ordinal);
        Assert.Equal(HubErrorCode.UnknownTool, tool.Code);
        Assert.Equal("ehco", tool.Target);
        Assert.Contains("Its tools: add, add_tool, crash, echo", tool.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_ArgumentsOfTheWrongType_AreInvalidArgumentsOrAToolError()
    {
        await _env.WriteManifestAsync(Servers.Stdio("io.example.alpha"));
        await using var hub = _env.CreateHub();

        var outcome = await Record.ExceptionAsync(async () =>
        {
            var result = await hub.CallToolAsync("io.example.alpha", "add", new Dictionary<string, object?> { ["a"] = "forty", ["b"] = 2 }, cancellationToken: Ct);
            Assert.True(result.IsError, HubToolResults.GetText(result));
        });

        Assert.True(outcome is null or HubException { Code: HubErrorCode.InvalidArguments }, outcome?.ToString());
    }

    [Fact]
    public async Task ListTools_ServerStillStarting_ServesTheManifestSnapshot()
    {
        var snapshotTool = new Tool { Name = "from_snapshot", Description = "Listed without connecting.", InputSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement };
        await _env.WriteManifestAsync(Servers.Manifest(
            "io.example.slow",
            new StdioTransport { Command = "dotnet", Args = [Servers.TestServerDll, "silent"] },
            timeouts: new ServerTimeouts { Launch = TimeSpan.FromSeconds(1), Handshake = TimeSpan.FromSeconds(1) },
            capabilities: new CapabilitySnapshot { Tools = [snapshotTool] }));
        await using var hub = _env.CreateHub(o => o.StartingServerListWait = TimeSpan.Zero);

        var listing = await hub.ListToolsAsync(cancellationToken: Ct);

        var tool = Assert.Single(listing.Tools);
        Assert.Equal(("io_example_slow__from_snapshot", ListSource.Snapshot), (tool.Name, tool.Source));
        Assert.Empty(listing.Failures);
    }

    [Fact]
    public async Task ListTools_ServerFails_ServesTheSnapshotAndReportsTheFailure()
    {
        var snapshotTool = new Tool { Name = "from_snapshot", InputSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement };
        await _env.WriteManifestAsync(Servers.Manifest(
            "io.example.down",
            new SocketTransport { Path = "down.sock" },
            capabilities: new CapabilitySnapshot { Tools = [snapshotTool] }));
        await using var hub = _env.CreateHub();

        var listing = await hub.ListToolsAsync(cancellationToken: Ct);

        Assert.Equal("io_example_down__from_snapshot", Assert.Single(listing.Tools).Name);
        var failure = Assert.Single(listing.Failures);
        Assert.Equal((ListSource.Snapshot, HubErrorCode.ConnectionFailed), (failure.Source, failure.Failure!.Code));
    }

    [Fact]
    public async Task ListTools_LastLiveListIsCached_ANewHubServesItWhileTheServerStarts()
    {
        await _env.WriteManifestAsync(Servers.Stdio("io.example.cached"));
        await using (var first = _env.CreateHub())
        {
            var live = await first.ListToolsAsync(cancellationToken: Ct);
            Assert.All(live.Tools, t => Assert.Equal(ListSource.Live, t.Source));
        }

        var cacheFile = Path.Combine(_env.CacheDirectory, "mmcp", "tools", "io.example.cached.json");
        Assert.True(File.Exists(cacheFile));
        await using var second = _env.CreateHub(o => o.StartingServerListWait = TimeSpan.Zero);

        var listing = await second.ListToolsAsync(cancellationToken: Ct);

        Assert.Contains(listing.Tools, t => t.Name == "io_example_cached__echo" && t.Source == ListSource.Cache);
        Assert.Equal(ListSource.Cache, Assert.Single(listing.Servers).Source);
    }

    [Fact]
    public async Task ListTools_CacheOfAnotherDefinition_IsNotUsed()
    {
        await _env.WriteManifestAsync(Servers.Stdio("io.example.cached"));
        await using (var first = _env.CreateHub())
        {
            await first.ListToolsAsync(cancellationToken: Ct);
        }

        await _env.WriteManifestAsync(Servers.Manifest("io.example.cached", new StdioTransport { Command = "dotnet", Args = [Servers.TestServerDll, "silent"] }, timeouts: new ServerTimeouts { Launch = TimeSpan.FromMilliseconds(300), Handshake = TimeSpan.FromMilliseconds(300) }));
        await using var second = _env.CreateHub(o => o.StartingServerListWait = TimeSpan.Zero);

        var listing = await second.ListToolsAsync(cancellationToken: Ct);

        Assert.Empty(listing.Tools);
        Assert.Equal(HubErrorCode.HandshakeTimeout, Assert.Single(listing.Failures).Failure!.Code);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("2025-11-25")]
    public async Task ListChanged_ServerAddsATool_TheHubHearsAndListsIt(string? protocolVersion)
    {
        await _env.WriteManifestAsync(Servers.Manifest("io.example.dynamic", new StdioTransport { Command = "dotnet", Args = [Servers.TestServerDll, "stdio"] }, protocolVersion: protocolVersion));
        await using var hub = _env.CreateHub();
        var changed = new TaskCompletionSource<HubListChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var before = await hub.ListToolsAsync(cancellationToken: Ct);
        hub.ListChanged += (_, e) =>
        {
            if (e.Kind == HubListKind.Tools)
            {
                changed.TrySetResult(e);
            }
        };

        await hub.CallToolAsync("io.example.dynamic", "add_tool", new Dictionary<string, object?> { ["name"] = "late_arrival" }, cancellationToken: Ct);
        var e = await changed.Task.WaitAsync(TestTimeouts.Default, Ct);
        var after = await hub.ListToolsAsync(cancellationToken: Ct);

        Assert.Equal("io.example.dynamic", e.ServerId);
        Assert.DoesNotContain(before.Tools, t => t.ToolName == "late_arrival");
        Assert.Contains(after.Tools, t => t.Name == "io_example_dynamic__late_arrival" && t.Source == ListSource.Live);
        Assert.Equal(protocolVersion ?? "2026-07-28", hub.GetServerStatus("io.example.dynamic").ProtocolVersion);
        Assert.Equal("late_arrival", HubToolResults.GetText(await hub.CallToolAsync("io_example_dynamic__late_arrival", arguments: null, cancellationToken: Ct)));
    }
}
