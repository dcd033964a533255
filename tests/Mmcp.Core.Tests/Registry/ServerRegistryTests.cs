using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Mmcp.Core.Registry.Imports;

namespace Mmcp.Core.Tests.Registry;

public sealed class ServerRegistryTests
{
    [Fact]
    public async Task RefreshAsync_SameIdInSeveralSources_FirstSourceWinsAndOthersAreShadowed()
    {
        using var dir = new TestSandbox();
        var user = Directory.CreateDirectory(dir.Combine("user")).FullName;
        var system = Directory.CreateDirectory(dir.Combine("system")).FullName;
        dir.Write("user/com.example.a.json", SampleManifests.Minimal("com.example.a"));
        dir.Write("system/com.example.a.json", SampleManifests.Minimal("com.example.a"));
        dir.Write("system/com.example.b.json", SampleManifests.Minimal("com.example.b"));
        var claude = dir.Write("claude.json", """{"mcpServers":{"com.example.b":{"command":"x"},"fs":{"command":"y"}}}""");
        await using var registry = new ServerRegistry([new ManifestDirectorySource(user), new ManifestDirectorySource(system), new ClientConfigSource(ServerSourceKind.ClaudeDesktop, claude, "/h")]);

        var snapshot = await registry.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["com.example.a", "com.example.b", "com.example.b.claude-desktop", "fs"], snapshot.Servers.Select(s => s.Id));
        var a = snapshot.Find("com.example.a")!;
        Assert.Equal(Path.Combine(user, "com.example.a.json"), a.Provenance.Location);
        Assert.Equal(Path.Combine(system, "com.example.a.json"), Assert.Single(a.Shadowed).Location);
        var b = snapshot.Find("com.example.b")!;
        Assert.Equal(ServerSourceKind.ManifestDirectory, b.Provenance.Kind);
        Assert.Equal(ServerSourceKind.ClaudeDesktop, Assert.Single(b.Shadowed).Kind);
        Assert.Equal(ServerSourceKind.ClaudeDesktop, snapshot.Find("fs")!.Provenance.Kind);
    }

    [Fact]
    public async Task RefreshAsync_InvalidManifests_AreReportedAndDoNotStopDiscovery()
    {
        using var dir = new TestSandbox();
        dir.Write("com.example.ok.json", SampleManifests.Minimal("com.example.ok"));
        dir.Write("com.example.bad.json", """{"id":"com.example.bad"}""");
        await using var registry = new ServerRegistry([new ManifestDirectorySource(dir.Root), new ThrowingSource()]);

        var snapshot = await registry.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Equal("com.example.ok", Assert.Single(snapshot.Servers).Id);
        Assert.Contains(snapshot.Diagnostics, d => d.Field == "transport");
        Assert.Contains(snapshot.Diagnostics, d => d.File == "thrower" && d.Message.Contains("boom", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddServer_ProgrammaticDefinition_WinsOverFiles()
    {
        using var dir = new TestSandbox();
        dir.Write("com.example.a.json", SampleManifests.Minimal("com.example.a"));
        await using var registry = new ServerRegistry([new ManifestDirectorySource(dir.Root)]);
        registry.AddServer(ManifestReader.Read(SampleManifests.Minimal("com.example.a", """{"type":"stdio","command":"x"}"""), "code").Manifest!);

        var snapshot = await registry.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Equal(ServerSourceKind.Programmatic, snapshot.Find("com.example.a")!.Provenance.Kind);
        Assert.True(registry.RemoveServer("com.example.a"));
        snapshot = await registry.RefreshAsync(TestContext.Current.CancellationToken);
        Assert.Equal(ServerSourceKind.ManifestDirectory, snapshot.Find("com.example.a")!.Provenance.Kind);
    }

    [Fact]
    public async Task RefreshAsync_NothingChanged_RaisesNoEventAndKeepsTheVersion()
    {
        using var dir = new TestSandbox();
        dir.Write("com.example.a.json", SampleManifests.Minimal("com.example.a"));
        await using var registry = new ServerRegistry([new ManifestDirectorySource(dir.Root)]);
        var events = 0;
        registry.Changed += (_, _) => events++;

        var first = await registry.RefreshAsync(TestContext.Current.CancellationToken);
        var second = await registry.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Equal(1, events);
        Assert.Equal(first.Version, second.Version);
    }

    [Fact]
    public async Task StartWatching_ManifestAddedChangedAndRemoved_RaisesChangedEachTime()
    {
        using var dir = new TestSandbox();
        var options = new RegistryOptions { Debounce = TimeSpan.FromMilliseconds(20), PollInterval = TimeSpan.FromSeconds(30) };
        await using var registry = new ServerRegistry([new ManifestDirectorySource(dir.Root)], options);
        await registry.RefreshAsync(TestContext.Current.CancellationToken);
        var changes = System.Threading.Channels.Channel.CreateUnbounded<RegistryChangedEventArgs>();
        registry.Changed += (_, e) => changes.Writer.TryWrite(e);
        registry.StartWatching();

        var path = dir.Write("com.example.w.json", SampleManifests.Minimal("com.example.w"));
        var added = await Next(changes);
        File.WriteAllText(path, SampleManifests.Minimal("com.example.w").Replace("An app.", "Changed.", StringComparison.Ordinal));
        var updated = await Next(changes);
        File.Delete(path);
        var removed = await Next(changes);

        Assert.Equal(["com.example.w"], added.Added);
        Assert.Equal(["com.example.w"], updated.Updated);
        Assert.Equal(["com.example.w"], removed.Removed);
        Assert.Empty(removed.Snapshot.Servers);
    }

    [Fact]
    public async Task StartWatching_DirectoryCreatedLater_IsNoticedByPolling()
    {
        using var dir = new TestSandbox();
        var later = dir.Combine("later", "servers");
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var registry = new ServerRegistry([new ManifestDirectorySource(later)], new RegistryOptions { PollInterval = TimeSpan.FromSeconds(5) }, time);
        await registry.RefreshAsync(TestContext.Current.CancellationToken);
        var changes = System.Threading.Channels.Channel.CreateUnbounded<RegistryChangedEventArgs>();
        registry.Changed += (_, e) => changes.Writer.TryWrite(e);
        registry.StartWatching();

        dir.Write(Path.Combine("later", "servers", "com.example.late.json"), SampleManifests.Minimal("com.example.late"));
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(["com.example.late"], (await Next(changes)).Added);
    }

    [Fact]
    public void Options_CreateSources_FollowsTheDocumentedPrecedence()
    {
        var env = new MmcpEnvironment(n => n == "MMCP_REGISTRY_PATH" ? "/r1:/r2" : null, "/home/u", "/ws");

        var sources = new RegistryOptions { Environment = env }.CreateSources();

        Assert.Equal(
            ["/r1", "/r2", "/ws/.vscode/mcp.json", "/ws/.cursor/mcp.json", "/home/u/.config/Claude/claude_desktop_config.json", "/home/u/.config/Code/User/mcp.json", "/home/u/.cursor/mcp.json", "/home/u/.local/share/mmcp/registry-servers"],
            sources.Select(s => s.DisplayName));
        Assert.Equal(2, new RegistryOptions { Environment = env, ImportClientConfigs = false }.CreateSources().Count);
    }

    private static async Task<RegistryChangedEventArgs> Next(System.Threading.Channels.Channel<RegistryChangedEventArgs> changes) =>
        await changes.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);

    private sealed class ThrowingSource : IServerSource
    {
        public ServerSourceKind Kind => ServerSourceKind.ManifestDirectory;

        public string DisplayName => "thrower";

        public IReadOnlyList<string> WatchPaths => [];

        public ValueTask<SourceReadResult> ReadAsync(CancellationToken cancellationToken = default) => throw new InvalidOperationException("boom");
    }
}
