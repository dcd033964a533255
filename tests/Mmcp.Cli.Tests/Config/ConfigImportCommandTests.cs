namespace Mmcp.Cli.Tests.Config;

[Trait("Speed", "slow")]
public sealed class ConfigImportCommandTests : IAsyncLifetime
{
    private const string LongArgument = "--a-very-long-argument-that-must-never-be-truncated-in-the-preview-because-the-user-consents-to-exactly-this=1";
    private readonly CliSandbox _sandbox = new();

    public async ValueTask InitializeAsync()
    {
        var claude = Directory.CreateDirectory(Path.Combine(_sandbox.Home, ".config", "Claude")).FullName;
        await File.WriteAllTextAsync(
            Path.Combine(claude, "claude_desktop_config.json"),
            """{"mcpServers":{"weather":{"command":"npx","args":["-y","@example/weather server",""" + System.Text.Json.JsonSerializer.Serialize(LongArgument) + """],"env":{"API_KEY":"s3cret","REGION":"${env:REGION}"}}}}""",
            TestContext.Current.CancellationToken);
        var vscode = Directory.CreateDirectory(Path.Combine(_sandbox.Workspace, ".vscode")).FullName;
        await File.WriteAllTextAsync(
            Path.Combine(vscode, "mcp.json"),
            """{"inputs":[{"type":"promptString","id":"gh-token","password":true}],"servers":{"github":{"type":"http","url":"https://api.example.com/mcp","headers":{"Authorization":"Bearer ${input:gh-token}"}}}}""",
            TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        _sandbox.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Preview_ShowsEverythingUntruncatedAndWritesNothing()
    {
        var target = Path.Combine(_sandbox.Root, "imported");

        var human = await _sandbox.RunAsync("config", "import", "--preview", "--registry", target);
        var json = await _sandbox.RunAsync("config", "import", "--preview", "--json", "--registry", target);

        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains($"npx -y '@example/weather server' {LongArgument}", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("would import", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("https://api.example.com/mcp", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("header Authorization: Bearer ${input:gh-token}", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("env REGION=${env:REGION}", human.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("MMCP_INPUT_GH_TOKEN", human.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
        var sources = json.Json().GetProperty("sources").EnumerateArray().ToList();
        var claude = sources.Single(s => s.GetProperty("kind").GetString() == "ClaudeDesktop");
        Assert.Equal("weather", claude.GetProperty("servers")[0].GetProperty("key").GetString());
        Assert.Contains(sources, s => s.GetProperty("kind").GetString() == "VsCode" && s.GetProperty("exists").GetBoolean());
    }

    [Fact]
    public async Task Import_WritesPrivateManifestsThatDiscoveryThenPrefers()
    {
        var target = Path.Combine(_sandbox.Root, "imported");

        var first = await _sandbox.RunAsync("config", "import", "--registry", target);
        var second = await _sandbox.RunAsync("config", "import", "--registry", target);
        var servers = await _sandbox.RunAsync("servers", "--json", "--registry", target);

        Assert.True(first.ExitCode == 0, first.ToString());
        var weather = Path.Combine(target, "local.weather.json");
        Assert.True(File.Exists(weather));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(weather));
        Assert.Contains("s3cret", await File.ReadAllTextAsync(weather, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Contains("exists (use --force to overwrite)", second.Stdout, StringComparison.Ordinal);
        var all = servers.Json().GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
        Assert.Equal("ManifestDirectory", all["local.weather"].GetProperty("provenance").GetProperty("kind").GetString());
        Assert.Equal("npx", all["local.weather"].GetProperty("transport").GetProperty("command").GetString());
        Assert.False(all.ContainsKey("weather"));
        Assert.Equal("ClaudeDesktop", Assert.Single(all["local.weather"].GetProperty("duplicates").EnumerateArray()).GetProperty("kind").GetString());
    }

    /// <summary>After an import, each tool is listed once (the configuration entry folds into its imported manifest), without --no-import.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task Tools_AfterImport_EachToolListedOnceAndTheOldIdStillReachesIt()
    {
        var claude = Path.Combine(_sandbox.Home, ".config", "Claude", "claude_desktop_config.json");
        await File.WriteAllTextAsync(claude, $$$"""{"mcpServers":{"tester":{"command":"dotnet","args":[{{{System.Text.Json.JsonSerializer.Serialize(CliSandbox.TestServerDll)}}},"stdio"]} } }""", TestContext.Current.CancellationToken);
        var target = Path.Combine(_sandbox.Root, "imported");

        var import = await _sandbox.RunAsync("config", "import", "--registry", target);
        var tools = await _sandbox.RunAsync("tools", "--json", "--registry", target);
        var oldId = await _sandbox.RunAsync("call", "tester", "echo", "--args", """{"text":"hi"}""", "--registry", target);

        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.True(tools.ExitCode == 0, tools.ToString());
        var echoes = tools.Json().GetProperty("tools").EnumerateArray().Where(t => t.GetProperty("tool").GetString() == "echo").ToList();
        Assert.Equal("local.tester", Assert.Single(echoes).GetProperty("server").GetString());
        Assert.True(oldId.ExitCode == 0, oldId.ToString());
        Assert.Contains("echo: hi", oldId.Stdout, StringComparison.Ordinal);
    }
}
