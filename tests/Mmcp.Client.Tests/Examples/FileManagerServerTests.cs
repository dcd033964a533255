using System.Diagnostics;
using Mmcp.Core.Registry;

namespace Mmcp.Client.Tests.Examples;

/// <summary>The example app end to end: installed (manifest registered), discovered, launched on demand, called.</summary>
[Trait("Speed", "slow")]
public sealed class FileManagerServerTests : IDisposable
{
    private const string Id = "io.mmcp.examples.filemanager";
    private readonly TestEnvironment _env = new();
    private int? _launched;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (_launched is { } pid)
        {
            Servers.Kill(pid);
        }

        _env.Dispose();
    }

    [Fact]
    public async Task Installed_NotRunning_TheHubLaunchesItAndListsFiles()
    {
        var shared = Directory.CreateDirectory(Path.Combine(_env.Root, "shared")).FullName;
        await File.WriteAllTextAsync(Path.Combine(shared, "hello.txt"), "Hello, files!", Ct);
        await RegisterAsync(shared);
        await using var hub = _env.CreateHub();

        var discovery = await hub.DiscoverServersAsync(Ct);
        var server = Assert.Single(discovery.Servers);
        var snapshot = await hub.ListToolsAsync(cancellationToken: Ct);
        var result = await hub.CallToolAsync(Id, "list_files", new Dictionary<string, object?> { ["path"] = "" }, cancellationToken: Ct);
        _launched = hub.GetServerStatus(Id).LaunchedProcessId;
        var entries = result.StructuredContent!.Value.GetProperty("entries");
        var uri = entries[0].GetProperty("uri").GetString()!;
        var read = await hub.ReadResourceAsync(Id, uri, Ct);

        Assert.Equal(ServerSourceKind.ManifestDirectory, server.Server.Provenance.Kind);
        Assert.Contains(snapshot.Tools, t => t.Name == "io_mmcp_examples_filemanager__list_files");
        Assert.NotNull(_launched);
        Assert.Equal("hello.txt", entries[0].GetProperty("name").GetString());
        Assert.Equal("Hello, files!", Assert.IsType<ModelContextProtocol.Protocol.TextResourceContents>(Assert.Single(read.Contents)).Text);
    }

    private async Task RegisterAsync(string shared)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "FileManagerServer.dll"), "--root", shared, "--mmcp-register"]) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["MMCP_RUNTIME_DIR"] = _env.RuntimeDirectory;
        start.Environment["MMCP_REGISTRY_PATH"] = _env.RegistryDirectory;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.True(process.ExitCode == 0, await stderr);
        Assert.True(File.Exists(RegistryPaths.GetManifestPath(_env.RegistryDirectory, Id)), await stderr);
    }
}
