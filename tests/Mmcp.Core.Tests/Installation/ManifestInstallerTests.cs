using Mmcp.Core.Installation;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Core.Tests.Installation;

public sealed class ManifestInstallerTests : IDisposable
{
    private const string BuiltManifest = """
        {"manifestVersion":1,"id":"com.example.app","name":"App","description":"An app.","version":"1.2.0",
         "transport":{"type":"socket","path":"com.example.app.sock"},
         "launch":{"command":"./App","args":["--flag"]},
         "capabilities":{"tools":[{"name":"echo","inputSchema":{"type":"object"}}]}}
        """;

    private readonly TestSandbox _dir = new();
    private readonly string _app;
    private readonly string _registry;
    private readonly string _system;
    private readonly string _runtime;
    private readonly string _home;
    private readonly InstallOptions _options;

    public ManifestInstallerTests()
    {
        _app = Directory.CreateDirectory(_dir.Combine("app")).FullName;
        _registry = _dir.Combine("reg");
        _system = Directory.CreateDirectory(_dir.Combine("sys")).FullName;
        _runtime = _dir.Combine("run");
        _home = Directory.CreateDirectory(_dir.Combine("home")).FullName;
        var variables = new Dictionary<string, string>
        {
            ["MMCP_REGISTRY_PATH"] = _registry + ":" + _system,
            ["MMCP_RUNTIME_DIR"] = _runtime,
        };
        _options = new InstallOptions { Environment = new MmcpEnvironment(n => variables.GetValueOrDefault(n), _home, _home) };
        File.WriteAllText(Path.Combine(_app, "App"), "#!/bin/sh\n");
        File.WriteAllText(Path.Combine(_app, "App.deps.json"), "{}");
        File.WriteAllText(Path.Combine(_app, "App.runtimeconfig.json"), """{"runtimeOptions":{}}""");
        File.WriteAllText(Path.Combine(_app, "com.example.app.json"), BuiltManifest);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task InstallAsync_BuiltManifest_ResolvesSocketAndLaunchForThisUserAndPlace()
    {
        _options.LaunchArguments.Add("--root");
        _options.LaunchArguments.Add("/data");

        var result = await ManifestInstaller.InstallAsync(Path.Combine(_app, "com.example.app.json"), _options, Ct);

        Assert.Equal(Path.Combine(_registry, "com.example.app.json"), result.ManifestPath);
        var installed = ManifestReader.ReadFile(result.ManifestPath).Manifest!;
        Assert.Equal(Path.Combine(_runtime, "com.example.app.sock"), ((SocketTransport)installed.Transport).Path);
        Assert.Equal(Path.Combine(_app, "App"), installed.Launch!.Command);
        Assert.Equal(["--flag", "--root", "/data"], installed.Launch.Args);
        Assert.Equal("echo", Assert.Single(installed.Capabilities!.Tools).Name);
        Assert.False(result.Replaced);
        Assert.Empty(result.Shadowed);
    }

    [Fact]
    public async Task InstallAsync_AppDirectory_FindsTheManifestAmongOtherJsonFiles()
    {
        var result = await ManifestInstaller.InstallAsync(_app, _options, Ct);

        Assert.Equal(Path.Combine(_app, "com.example.app.json"), result.SourcePath);
    }

    [Fact]
    public async Task InstallAsync_Executable_FindsTheManifestThatLaunchesIt()
    {
        File.WriteAllText(Path.Combine(_app, "com.example.other.json"), BuiltManifest.Replace("com.example.app", "com.example.other", StringComparison.Ordinal).Replace("./App", "./Other", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(_app, "Other"), string.Empty);

        var result = await ManifestInstaller.InstallAsync(Path.Combine(_app, "Other"), _options, Ct);

        Assert.Equal("com.example.other", result.Manifest.Id);
    }

    [Fact]
    public async Task InstallAsync_SeveralManifests_AsksWhichOne()
    {
        File.WriteAllText(Path.Combine(_app, "com.example.other.json"), BuiltManifest.Replace("com.example.app", "com.example.other", StringComparison.Ordinal));

        var ex = await Assert.ThrowsAsync<InstallException>(() => ManifestInstaller.InstallAsync(_app, _options, Ct));

        Assert.Contains("com.example.app.json, com.example.other.json", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_registry));
    }

    [Fact]
    public async Task InstallAsync_NoManifest_ExplainsWhereManifestsComeFrom()
    {
        var empty = Directory.CreateDirectory(_dir.Combine("empty")).FullName;

        var ex = await Assert.ThrowsAsync<InstallException>(() => ManifestInstaller.InstallAsync(empty, _options, Ct));

        Assert.Contains("--mmcp-export-manifest", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstallAsync_InvalidManifest_ReportsFieldsAndWritesNothing()
    {
        var bad = _dir.Write("bad/com.example.bad.json", """{"manifestVersion":1,"id":"Bad Id","name":"x","description":"x","version":"1","transport":{"type":"socket","path":"x.sock"}}""");

        var ex = await Assert.ThrowsAsync<InstallException>(() => ManifestInstaller.InstallAsync(bad, _options, Ct));

        Assert.Contains(ex.Diagnostics, d => d.Field == "id");
        Assert.False(Directory.Exists(_registry));
    }

    [Fact]
    public async Task InstallAsync_MissingLaunchProgram_IsRefused()
    {
        File.Delete(Path.Combine(_app, "App"));

        var ex = await Assert.ThrowsAsync<InstallException>(() => ManifestInstaller.InstallAsync(_app, _options, Ct));

        Assert.Contains("launch.command './App' does not exist", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_registry));
    }

    [Fact]
    public async Task InstallAsync_IdShadowingASystemManifest_NeedsForce()
    {
        File.WriteAllText(Path.Combine(_system, "com.example.app.json"), SampleManifests.Minimal("com.example.app"));

        var refused = await Assert.ThrowsAsync<InstallException>(() => ManifestInstaller.InstallAsync(_app, _options, Ct));
        _options.Force = true;
        var forced = await ManifestInstaller.InstallAsync(_app, _options, Ct);

        Assert.Equal(Path.Combine(_system, "com.example.app.json"), Assert.Single(refused.Conflicts).Location);
        Assert.Contains("--force", refused.Message, StringComparison.Ordinal);
        Assert.Equal(Path.Combine(_system, "com.example.app.json"), Assert.Single(forced.Shadowed).Location);
    }

    [Fact]
    public async Task InstallAsync_IdOfAClaudeDesktopServer_NeedsForce()
    {
        var claude = Path.Combine(_home, ".config", "Claude", "claude_desktop_config.json");
        Directory.CreateDirectory(Path.GetDirectoryName(claude)!);
        File.WriteAllText(claude, """{"mcpServers":{"com.example.app":{"command":"npx","args":["x"]}}}""");

        var ex = await Assert.ThrowsAsync<InstallException>(() => ManifestInstaller.InstallAsync(_app, _options, Ct));

        Assert.Equal(ServerSourceKind.ClaudeDesktop, Assert.Single(ex.Conflicts).Kind);
    }

    [Fact]
    public async Task InstallAsync_SameAppAgain_ReplacesItsManifest()
    {
        await ManifestInstaller.InstallAsync(_app, _options, Ct);

        var again = await ManifestInstaller.InstallAsync(_app, _options, Ct);

        Assert.True(again.Replaced);
    }

    [Fact]
    public async Task InstallAsync_DifferentAppWithTheSameId_NeedsForce()
    {
        await ManifestInstaller.InstallAsync(_app, _options, Ct);
        var other = Directory.CreateDirectory(_dir.Combine("other")).FullName;
        File.WriteAllText(Path.Combine(other, "App"), string.Empty);
        File.WriteAllText(Path.Combine(other, "com.example.app.json"), BuiltManifest);

        var ex = await Assert.ThrowsAsync<InstallException>(() => ManifestInstaller.InstallAsync(other, _options, Ct));
        var before = File.ReadAllText(Path.Combine(_registry, "com.example.app.json"));

        Assert.Equal(Path.Combine(_registry, "com.example.app.json"), Assert.Single(ex.Conflicts).Location);
        Assert.Contains(Path.Combine(_app, "App"), before, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_LongIdOnLongRuntimeDirectory_UsesTheServersHashedSocketName()
    {
        var id = "com.example." + new string('x', 90);
        var manifest = ManifestReader.Read(BuiltManifest.Replace("com.example.app", id, StringComparison.Ordinal), "m").Manifest!;

        var resolved = ManifestInstaller.Resolve(manifest, _app, _options);

        var socket = ((SocketTransport)resolved.Transport).Path;
        Assert.Equal(RegistryPaths.GetDefaultSocketPath(id, _options.Environment), socket);
        Assert.StartsWith("m-", Path.GetFileName(socket), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UninstallAsync_InstalledServer_RemovesItsManifestAndSaysWhat()
    {
        await ManifestInstaller.InstallAsync(_app, _options, Ct);

        var result = await ManifestInstaller.UninstallAsync("com.example.app", _options, Ct);

        Assert.True(result.Removed);
        Assert.Equal(Path.Combine(_registry, "com.example.app.json"), result.RemovedPath);
        Assert.Equal("1.2.0", result.RemovedManifest!.Version);
        Assert.False(File.Exists(result.RemovedPath));
        Assert.Empty(result.StillDefinedBy);
    }

    [Fact]
    public async Task UninstallAsync_NotInstalledButDefinedElsewhere_RemovesNothingAndNamesTheOtherSource()
    {
        File.WriteAllText(Path.Combine(_system, "com.example.app.json"), SampleManifests.Minimal("com.example.app"));

        var result = await ManifestInstaller.UninstallAsync("com.example.app", _options, Ct);

        Assert.False(result.Removed);
        Assert.Equal(Path.Combine(_system, "com.example.app.json"), Assert.Single(result.StillDefinedBy).Location);
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("a__b")]
    [InlineData("")]
    public async Task UninstallAsync_InvalidId_IsRefused(string id)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => ManifestInstaller.UninstallAsync(id, _options, Ct));
    }
}
