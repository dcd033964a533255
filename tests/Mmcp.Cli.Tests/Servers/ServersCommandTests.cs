namespace Mmcp.Cli.Tests.Servers;

[Trait("Speed", "slow")]
public sealed class ServersCommandTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Servers_Json_ListsEveryServerWithProvenanceAndReportsBadManifests()
    {
        await _sandbox.WriteTestServerAsync("io.example.alpha");
        await File.WriteAllTextAsync(Path.Combine(_sandbox.Registry, "broken.json"), """{"manifestVersion":1,"id":"io.example.broken"}""", TestContext.Current.CancellationToken);
        var claude = Directory.CreateDirectory(Path.Combine(_sandbox.Home, ".config", "Claude")).FullName;
        await File.WriteAllTextAsync(Path.Combine(claude, "claude_desktop_config.json"), """{"mcpServers":{"weather":{"command":"npx","args":["-y","@example/weather-server","--units","metric"],"env":{"API_KEY":"abc123"}}}}""", TestContext.Current.CancellationToken);

        var result = await _sandbox.RunAsync("servers", "--json", "--registry", _sandbox.Registry);

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        var servers = json.GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
        Assert.Equal("ManifestDirectory", servers["io.example.alpha"].GetProperty("provenance").GetProperty("kind").GetString());
        var weather = servers["weather"];
        Assert.Equal("ClaudeDesktop", weather.GetProperty("provenance").GetProperty("kind").GetString());
        Assert.Equal("npx -y @example/weather-server --units metric", weather.GetProperty("transport").GetProperty("display").GetString());
        Assert.Equal("***", weather.GetProperty("transport").GetProperty("env").GetProperty("API_KEY").GetString());
        Assert.Equal("Disconnected", weather.GetProperty("status").GetProperty("state").GetString());
        Assert.Contains(json.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("file").GetString()!.EndsWith("broken.json", StringComparison.Ordinal) && d.GetProperty("severity").GetString() == "error");
        Assert.DoesNotContain("abc123", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Servers_Table_ShowsProvenanceAndProblemsOnStandardError()
    {
        await _sandbox.WriteTestServerAsync("io.example.alpha");
        await File.WriteAllTextAsync(Path.Combine(_sandbox.Registry, "broken.json"), "{ not json", TestContext.Current.CancellationToken);

        var result = await _sandbox.RunAsync("servers", "--registry", _sandbox.Registry, "--no-import");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("io.example.alpha", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"manifest {Path.Combine(_sandbox.Registry, "io.example.alpha.json")}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("broken.json", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Servers_Check_ConnectsAndReportsFailuresWithExitCode7()
    {
        await _sandbox.WriteTestServerAsync("io.example.alpha");
        await _sandbox.WriteManifestAsync("io.example.missing", """{"type":"stdio","command":"mmcp-no-such-program"}""");

        var result = await _sandbox.RunAsync("servers", "--check", "--json", "--registry", _sandbox.Registry, "--no-import");

        Assert.True(result.ExitCode == 7, result.ToString());
        var servers = result.Json().GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
        Assert.Equal(12, servers["io.example.alpha"].GetProperty("toolCount").GetInt32()); // the test server's tools
        Assert.Equal("LaunchFailed", servers["io.example.missing"].GetProperty("status").GetProperty("lastFailure").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Servers_RegistryFromEnvironment_IsUsedWithoutTheOption()
    {
        await _sandbox.WriteTestServerAsync("io.example.alpha");
        _sandbox.Set("MMCP_REGISTRY_PATH", _sandbox.Registry);

        var result = await _sandbox.RunAsync("servers", "--json", "--no-import");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("io.example.alpha", Assert.Single(result.Json().GetProperty("servers").EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Servers_SeveralRegistryOptions_FirstWins()
    {
        var second = Directory.CreateDirectory(Path.Combine(_sandbox.Root, "reg2")).FullName;
        await _sandbox.WriteTestServerAsync("io.example.alpha");
        await _sandbox.WriteTestServerAsync("io.example.alpha", second);
        await _sandbox.WriteTestServerAsync("io.example.beta", second);

        var result = await _sandbox.RunAsync("servers", "--json", "--no-import", "--registry", _sandbox.Registry, "--registry", second);

        Assert.True(result.ExitCode == 0, result.ToString());
        var servers = result.Json().GetProperty("servers").EnumerateArray().ToList();
        Assert.Equal(["io.example.alpha", "io.example.beta"], servers.Select(s => s.GetProperty("id").GetString()));
        Assert.StartsWith(_sandbox.Registry, servers[0].GetProperty("provenance").GetProperty("location").GetString(), StringComparison.Ordinal);
        Assert.StartsWith(second, servers[0].GetProperty("shadowed")[0].GetProperty("location").GetString(), StringComparison.Ordinal);
    }
}
