using System.Diagnostics;

namespace Mmcp.Cli.Tests.Install;

/// <summary><c>mmcp install</c> / <c>mmcp uninstall</c> with the example app's real build output.</summary>
[Trait("Speed", "slow")]
public sealed class InstallCommandTests : IDisposable
{
    private const string Id = "io.mmcp.examples.filemanager";
    private readonly CliSandbox _sandbox = new();

    public void Dispose()
    {
        // A hub starts apps detached; stop what this test started.
        foreach (var process in Process.GetProcessesByName("FileManagerServer"))
        {
            using (process)
            {
                if (ReadCommandLine(process.Id).Contains(_sandbox.Root, StringComparison.Ordinal) || ReadEnvironment(process.Id).Contains(_sandbox.Root, StringComparison.Ordinal))
                {
                    process.Kill(entireProcessTree: true);
                }
            }
        }

        _sandbox.Dispose();
    }

    [Fact]
    public async Task Install_AppDirectory_DiscoveredListedWithoutStartingThenStartedOnDemand_AndUninstalled()
    {
        var app = CopyExampleApp();

        var install = await _sandbox.RunAsync("install", app, "--json");
        var tools = await _sandbox.RunAsync("tools", "--server", Id, "--json");
        var socket = Path.Combine(_sandbox.Root, "run", Id + ".sock");
        var startedBeforeCall = File.Exists(socket);
        var call = await _sandbox.RunAsync("call", Id, "list_files", "--args", "{\"path\":\"\"}", "--json");
        var uninstall = await _sandbox.RunAsync("uninstall", Id);
        var again = await _sandbox.RunAsync("uninstall", Id, "--json");

        Assert.True(install.ExitCode == 0, install.ToString());
        var manifestPath = install.Json().GetProperty("manifestPath").GetString()!;
        Assert.Equal(Path.Combine(_sandbox.Home, ".local", "share", "mmcp", "servers", Id + ".json"), manifestPath);
        Assert.Equal("socket", install.Json().GetProperty("transport").GetProperty("type").GetString());
        Assert.True(tools.ExitCode == 0, tools.ToString());
        Assert.Contains(tools.Json().GetProperty("tools").EnumerateArray(), t => t.GetProperty("tool").GetString() == "list_files");
        Assert.False(startedBeforeCall, "listing came from the manifest's snapshot, without starting the app");
        Assert.True(call.ExitCode == 0, call.ToString());
        Assert.True(uninstall.ExitCode == 0, uninstall.ToString());
        Assert.False(File.Exists(manifestPath));
        Assert.Equal(3, again.ExitCode);
        Assert.False(again.Json().GetProperty("removed").GetBoolean());
    }

    [Fact]
    public async Task Install_IdAlreadyDefinedElsewhere_RefusesWithoutForce()
    {
        var app = CopyExampleApp();
        Directory.CreateDirectory(Path.Combine(_sandbox.Root, "other"));
        await _sandbox.WriteManifestAsync(Id, """{"type":"stdio","command":"something-else"}""", directory: Path.Combine(_sandbox.Root, "other"));
        var refused = await _sandbox.RunAsync("install", app, "--registry", Path.Combine(_sandbox.Root, "mine"), "--registry", Path.Combine(_sandbox.Root, "other"));
        var writtenWhenRefused = File.Exists(Path.Combine(_sandbox.Root, "mine", Id + ".json"));
        var forced = await _sandbox.RunAsync("install", app, "--registry", Path.Combine(_sandbox.Root, "mine"), "--registry", Path.Combine(_sandbox.Root, "other"), "--force");

        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains("--force", refused.Stderr, StringComparison.Ordinal);
        Assert.False(writtenWhenRefused);
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.True(File.Exists(Path.Combine(_sandbox.Root, "mine", Id + ".json")));
        var launch = forced.Stdout.Split('\n').Single(line => line.Contains("started on demand with: ", StringComparison.Ordinal));
        Assert.Equal(launch.TrimEnd(), launch); // an app launched without arguments leaves no trailing space
    }

    [Fact]
    public async Task Install_InvalidManifest_ExitsWith6AndWritesNothing()
    {
        var bad = Path.Combine(_sandbox.Root, "bad.json");
        await File.WriteAllTextAsync(bad, """{"id":"Not Valid","name":"x","description":"x","version":"1","transport":{"type":"socket"}}""", TestContext.Current.CancellationToken);

        var result = await _sandbox.RunAsync("install", bad);

        Assert.True(result.ExitCode == 6, result.ToString());
        Assert.Contains("transport.path", result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_sandbox.Home, ".local", "share", "mmcp", "servers")) && Directory.EnumerateFiles(Path.Combine(_sandbox.Home, ".local", "share", "mmcp", "servers")).Any());
    }

    /// <summary>Copies the example's build output (with the manifest the build wrote next to it) as an "installed app".</summary>
    private string CopyExampleApp()
    {
        var output = Path.Combine(Repository.Root, "examples", "FileManagerServer", "bin", Configuration(), "net10.0");
        Assert.True(File.Exists(Path.Combine(output, Id + ".json")), $"the example's build did not write its manifest into {output}");
        var target = Path.Combine(_sandbox.Root, "apps", "filemanager");
        foreach (var file in Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(output, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        File.SetUnixFileMode(Path.Combine(target, "FileManagerServer"), File.GetUnixFileMode(Path.Combine(output, "FileManagerServer")));
        return target;
    }

    private static string Configuration() => AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string ReadCommandLine(int pid) => Read($"/proc/{pid}/cmdline");

    private static string ReadEnvironment(int pid) => Read($"/proc/{pid}/environ");

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}
