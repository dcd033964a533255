using System.Text.Json;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Mmcp.Core.Registry.Imports;

namespace Mmcp.Core.Tests.Registry;

/// <summary>Issue 12 item 6: the same server in several clients' configurations, and imported copies of configurations.</summary>
public sealed class ClientConfigCollisionTests
{
    /// <summary>A name taken by a project's VS Code entry leaves Claude Desktop's entry reachable under a suffixed id.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task RefreshAsync_SameNameInProjectAndClaudeDesktop_BothReachableUnderDistinctIds()
    {
        using var dir = new TestSandbox();
        var workspace = Directory.CreateDirectory(dir.Combine("work")).FullName;
        var vscode = dir.Write("work/.vscode/mcp.json", """{"servers":{"weather":{"command":"project-weather"}}}""");
        var claude = dir.Write("claude.json", """{"mcpServers":{"weather":{"command":"desktop-weather"}}}""");
        await using var registry = new ServerRegistry([new ClientConfigSource(ServerSourceKind.VsCode, vscode, dir.Root, workspace), new ClientConfigSource(ServerSourceKind.ClaudeDesktop, claude, dir.Root)]);

        var snapshot = await registry.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["weather", "weather.claude-desktop"], snapshot.Servers.Select(s => s.Id));
        Assert.Equal("project-weather", Command(snapshot.Find("weather")!));
        var alternate = snapshot.Find("weather.claude-desktop")!;
        Assert.Equal("desktop-weather", Command(alternate));
        Assert.Equal("weather", alternate.ShadowedBy);
        Assert.Equal(ServerSourceKind.ClaudeDesktop, alternate.Provenance.Kind);
        Assert.Same(snapshot.Find("weather"), snapshot.Find("weather.vscode"));
        var shadowed = Assert.Single(snapshot.Definitions, d => d.Role == DefinitionRole.Alternate);
        Assert.Equal(("weather", "weather.claude-desktop", "weather.claude-desktop"), (shadowed.DefinedId, shadowed.ServerId, shadowed.StableId));
    }

    /// <summary>The suffixed id names the same definition whichever directory the registry is read from.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task Find_SuffixedIdOutsideTheProject_ReachesTheSameDefinition()
    {
        using var dir = new TestSandbox();
        var claude = dir.Write("claude.json", """{"mcpServers":{"weather":{"command":"desktop-weather"}}}""");
        var elsewhere = Directory.CreateDirectory(dir.Combine("elsewhere")).FullName;
        await using var registry = new ServerRegistry([new ClientConfigSource(ServerSourceKind.VsCode, Path.Combine(elsewhere, ".vscode", "mcp.json"), dir.Root, elsewhere), new ClientConfigSource(ServerSourceKind.ClaudeDesktop, claude, dir.Root)]);

        var snapshot = await registry.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Equal("weather", Assert.Single(snapshot.Servers).Id);
        Assert.Equal("desktop-weather", Command(snapshot.Find("weather.claude-desktop")!));
        Assert.Contains("weather.claude-desktop", snapshot.Find("weather")!.Aliases);
    }

    /// <summary>An entry identical to a manifest of higher precedence (what 'mmcp config import' writes) is folded into it, not listed twice.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task RefreshAsync_ImportedManifestIdenticalToItsSource_ListedOnce()
    {
        using var dir = new TestSandbox();
        var registryDir = Directory.CreateDirectory(dir.Combine("reg")).FullName;
        dir.Write("reg/local.weather.json", SampleManifests.Minimal("local.weather", """{"type":"stdio","command":"npx","args":["-y","weather"],"env":{"KEY":"${env:KEY}"}}"""));
        var claude = dir.Write("claude.json", """{"mcpServers":{"weather":{"command":"npx","args":["-y","weather"],"env":{"KEY":"${env:KEY}"}},"other":{"command":"npx","args":["-y","weather","--other"]}}}""");
        await using var registry = new ServerRegistry([new ManifestDirectorySource(registryDir), new ClientConfigSource(ServerSourceKind.ClaudeDesktop, claude, dir.Root)]);

        var snapshot = await registry.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["local.weather", "other"], snapshot.Servers.Select(s => s.Id));
        var imported = snapshot.Find("local.weather")!;
        Assert.Equal(ServerSourceKind.ClaudeDesktop, Assert.Single(imported.Duplicates).Kind);
        Assert.Same(imported, snapshot.Find("weather"));
        Assert.Same(imported, snapshot.Find("weather.claude-desktop"));
        var folded = Assert.Single(snapshot.Definitions, d => d.Role == DefinitionRole.Duplicate);
        Assert.Equal(("weather", "local.weather"), (folded.DefinedId, folded.ServerId));
    }

    /// <summary>
    /// Regression (outside trial of issue 12 item 6): the project's entry is folded into its imported manifest, so its name
    /// is only an alias; Claude Desktop's different entry with that name took it over (and the project's entry lost it).
    /// The name stays with the entry of higher precedence and Claude Desktop's is shadowed under its suffixed id.
    /// </summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task RefreshAsync_NameOnlyAnAliasOfAnImportedManifest_LowerPrecedenceEntryIsShadowed()
    {
        using var dir = new TestSandbox();
        var registryDir = Directory.CreateDirectory(dir.Combine("reg")).FullName;
        var workspace = Directory.CreateDirectory(dir.Combine("work")).FullName;
        dir.Write("reg/local.weather.json", SampleManifests.Minimal("local.weather", $$"""{"type":"stdio","command":"project-weather","cwd":{{JsonSerializer.Serialize(workspace)}}}"""));
        var vscode = dir.Write("work/.vscode/mcp.json", """{"servers":{"weather":{"command":"project-weather"}}}""");
        var claude = dir.Write("claude.json", """{"mcpServers":{"weather":{"command":"desktop-weather"}}}""");
        await using var registry = new ServerRegistry([new ManifestDirectorySource(registryDir), new ClientConfigSource(ServerSourceKind.VsCode, vscode, dir.Root, workspace), new ClientConfigSource(ServerSourceKind.ClaudeDesktop, claude, dir.Root)]);

        var snapshot = await registry.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["local.weather", "weather.claude-desktop"], snapshot.Servers.Select(s => s.Id));
        Assert.Equal("project-weather", Command(snapshot.Find("weather")!));
        var alternate = snapshot.Find("weather.claude-desktop")!;
        Assert.Equal("desktop-weather", Command(alternate));
        Assert.Equal("weather", alternate.ShadowedBy);
        var shadowed = Assert.Single(snapshot.Definitions, d => d.Role == DefinitionRole.Alternate);
        Assert.Equal(("weather", ServerSourceKind.ClaudeDesktop, "weather.claude-desktop"), (shadowed.DefinedId, shadowed.Provenance.Kind, shadowed.ServerId));
    }

    /// <summary>Two manifests with different ids and the same command stay two servers: only imported entries are folded.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task RefreshAsync_TwoManifestsWithTheSameCommand_StayTwoServers()
    {
        using var dir = new TestSandbox();
        dir.Write("com.example.a.json", SampleManifests.Minimal("com.example.a", """{"type":"stdio","command":"same"}"""));
        dir.Write("com.example.b.json", SampleManifests.Minimal("com.example.b", """{"type":"stdio","command":"same"}"""));
        await using var registry = new ServerRegistry([new ManifestDirectorySource(dir.Root)]);

        var snapshot = await registry.RefreshAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["com.example.a", "com.example.b"], snapshot.Servers.Select(s => s.Id));
    }

    private static string Command(DiscoveredServer server) => ((StdioTransport)server.Manifest.Transport).Command;
}
