using Mmcp.Core.Installation;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Mmcp.Server.Generators.Tests.Infrastructure;

namespace Mmcp.Server.Generators.Tests.EndToEnd;

/// <summary>
/// A generated server from build to first call: its build output carries the manifest, `install` registers it, a hub
/// discovers it and lists its tools without connecting, then starts it from the manifest and calls a tool over its socket.
/// </summary>
public sealed class DiscoveryEndToEndTests
{
    private const string Id = "io.mmcp.examples.filemanager";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Build_WritesTheManifestNextToTheApp()
    {
        var read = ManifestReader.ReadFile(Path.Combine(TestPaths.FileManagerOutput, Id + ".json"));

        var manifest = Assert.IsType<ServerManifest>(read.Manifest);
        Assert.Equal(Id + ".sock", ((SocketTransport)manifest.Transport).Path);
        Assert.Equal("./FileManagerServer", manifest.Launch!.Command);
        Assert.Equal("list_files", Assert.Single(manifest.Capabilities!.Tools).Name);
    }

    [Fact]
    public async Task InstalledServer_IsDiscoveredListedWithoutConnectingThenCalledOverItsSocket()
    {
        using var user = new TestUser();
        var options = new InstallOptions { Environment = user.Environment };
        options.LaunchArguments.Add("--root");
        options.LaunchArguments.Add(user.Shared);

        var installed = await ManifestInstaller.InstallAsync(Path.Combine(TestPaths.FileManagerOutput, "FileManagerServer"), options, Ct);

        await using var registry = ServerRegistry.Create(new RegistryOptions { Environment = user.Environment, ImportClientConfigs = false });
        var snapshot = await registry.RefreshAsync(Ct);
        var discovered = snapshot.Find(Id)!;
        Assert.Equal(installed.ManifestPath, discovered.Provenance.Location);
        var tool = Assert.Single(discovered.Manifest.Capabilities!.Tools);
        Assert.Equal("list_files", tool.Name);
        Assert.Equal("string", tool.InputSchema.GetProperty("properties").GetProperty("path").GetProperty("type").GetString());
        var socket = ((SocketTransport)discovered.Manifest.Transport).Path;
        Assert.False(File.Exists(socket), "the tools were listed from the manifest, with no server running");

        var launch = discovered.Manifest.Launch!;
        await using var process = ServerProcess.Start(launch.Command, launch.Args, user.Variables);
        Assert.Equal(socket, await process.WaitUntilListeningAsync(Ct));
        await using var connection = await SocketClient.ConnectAsync(socket, Ct);
        var result = await connection.Client.CallToolAsync("list_files", new Dictionary<string, object?> { ["path"] = "" }, cancellationToken: Ct);

        Assert.NotEqual(true, result.IsError);
        var names = result.StructuredContent!.Value.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("name").GetString());
        Assert.Equal(["docs", "hello.txt"], names);
    }

    [Fact]
    public async Task Uninstall_RemovesTheServerFromDiscovery()
    {
        using var user = new TestUser();
        var options = new InstallOptions { Environment = user.Environment };
        await ManifestInstaller.InstallAsync(TestPaths.FileManagerOutput, options, Ct);

        var removed = await ManifestInstaller.UninstallAsync(Id, options, Ct);

        await using var registry = ServerRegistry.Create(new RegistryOptions { Environment = user.Environment, ImportClientConfigs = false });
        Assert.True(removed.Removed);
        Assert.Null((await registry.RefreshAsync(Ct)).Find(Id));
    }
}
