using System.Text.Json;

namespace Mmcp.Cli.Tests.Tools;

[Trait("Speed", "slow")]
public sealed class ToolsCommandTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    [Trait("Speed", "slow")]
    public async Task Tools_ReferenceServersOverStdio_AggregatedNamesWithSchemas()
    {
        var shared = Directory.CreateDirectory(Path.Combine(_sandbox.Root, "shared")).FullName;
        await _sandbox.WriteManifestAsync("io.github.everything", $$"""{"type":"stdio","command":"node","args":[{{JsonSerializer.Serialize(NpmServers.Script("server-everything"))}},"stdio"]}""");
        await _sandbox.WriteManifestAsync("io.github.filesystem", $$"""{"type":"stdio","command":"node","args":[{{JsonSerializer.Serialize(NpmServers.Script("server-filesystem"))}},{{JsonSerializer.Serialize(shared)}}]}""");

        var result = await _sandbox.RunAsync("tools", "--json", "--registry", _sandbox.Registry, "--no-import");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        var tools = json.GetProperty("tools").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        Assert.Equal("get-sum", tools["io_github_everything__get-sum"].GetProperty("tool").GetString());
        Assert.Equal("io.github.filesystem", tools["io_github_filesystem__read_text_file"].GetProperty("server").GetString());
        Assert.Equal("object", tools["io_github_filesystem__read_text_file"].GetProperty("inputSchema").GetProperty("type").GetString());
        Assert.All(json.GetProperty("servers").EnumerateArray(), s => Assert.Equal("Live", s.GetProperty("source").GetString()));
    }

    [Fact]
    public async Task Tools_OneServerFails_OthersAreListedAndTheFailureReported()
    {
        await _sandbox.WriteTestServerAsync("io.example.alpha");
        await _sandbox.WriteManifestAsync("io.example.down", """{"type":"socket","path":"nothing-here.sock"}""");

        var all = await _sandbox.RunAsync("tools", "--json", "--registry", _sandbox.Registry, "--no-import");
        var one = await _sandbox.RunAsync("tools", "--server", "io.example.down", "--registry", _sandbox.Registry, "--no-import");

        Assert.True(all.ExitCode == 0, all.ToString());
        var servers = all.Json().GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
        Assert.Equal("ConnectionFailed", servers["io.example.down"].GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(all.Json().GetProperty("tools").EnumerateArray(), t => t.GetProperty("name").GetString() == "io_example_alpha__echo");
        Assert.True(one.ExitCode == 7, one.ToString());
        Assert.Contains("nothing listens on", one.Stderr, StringComparison.Ordinal);
    }

    /// <summary>A server that fails is a warning (in --json, with what failed and how to fix it, and on standard error), and --strict turns it into exit code 8.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task Tools_ServerFails_WarningsInJsonAndOnStderrAndStrictExitsWith8()
    {
        await _sandbox.WriteTestServerAsync("io.example.alpha");
        await _sandbox.WriteManifestAsync("io.example.missing", """{"type":"stdio","command":"mmcp-no-such-program"}""");

        var json = await _sandbox.RunAsync("tools", "--json", "--registry", _sandbox.Registry, "--no-import");
        var human = await _sandbox.RunAsync("tools", "--registry", _sandbox.Registry, "--no-import");
        var strict = await _sandbox.RunAsync("tools", "--strict", "--json", "--registry", _sandbox.Registry, "--no-import");

        Assert.True(json.ExitCode == 0, json.ToString());
        var warning = Assert.Single(json.Json().GetProperty("warnings").EnumerateArray());
        Assert.Equal("io.example.missing", warning.GetProperty("server").GetString());
        Assert.Equal("LaunchFailed", warning.GetProperty("code").GetString());
        Assert.Contains("mmcp-no-such-program", warning.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("io.example.missing.json", warning.GetProperty("fix").GetString(), StringComparison.Ordinal);
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains("warning: io.example.missing", human.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", human.Stdout, StringComparison.Ordinal);
        Assert.True(strict.ExitCode == 8, strict.ToString());
        Assert.Contains(strict.Json().GetProperty("tools").EnumerateArray(), t => t.GetProperty("name").GetString() == "io_example_alpha__echo");
    }

    /// <summary>With --progress and standard error not a terminal, which servers are awaited and when waiting ended go to standard error as plain lines; standard output stays JSON; without --progress nothing is shown.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task Tools_ProgressWithRedirectedStderr_PlainLinesOnStderrOnly()
    {
        await _sandbox.WriteTestServerAsync("io.example.alpha");
        await _sandbox.WriteTestServerAsync("io.example.beta");

        var progress = await _sandbox.RunAsync("tools", "--progress", "--json", "--registry", _sandbox.Registry, "--no-import");
        var quiet = await _sandbox.RunAsync("tools", "--json", "--registry", _sandbox.Registry, "--no-import");

        Assert.True(progress.ExitCode == 0, progress.ToString());
        Assert.Contains("mmcp: waiting for 2 server(s): io.example.alpha, io.example.beta", progress.Stderr, StringComparison.Ordinal);
        Assert.Contains("mmcp: finished waiting for servers after ", progress.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', progress.Stderr);
        Assert.Equal(24, progress.Json().GetProperty("tools").GetArrayLength()); // 12 tools of the test server, twice
        Assert.DoesNotContain("waiting", progress.Stdout, StringComparison.Ordinal);
        Assert.True(quiet.ExitCode == 0, quiet.ToString());
        Assert.DoesNotContain("waiting", quiet.Stderr, StringComparison.Ordinal);
    }
}
