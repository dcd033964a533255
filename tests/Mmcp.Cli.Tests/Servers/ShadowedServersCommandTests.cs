using System.Text.Json;

namespace Mmcp.Cli.Tests.Servers;

/// <summary>Issue 12 item 6: the same server name in a project's VS Code configuration and in Claude Desktop's.</summary>
[Trait("Speed", "slow")]
public sealed class ShadowedServersCommandTests : IAsyncLifetime
{
    private readonly CliSandbox _sandbox = new();

    public async ValueTask InitializeAsync()
    {
        var server = JsonSerializer.Serialize(CliSandbox.TestServerDll);
        var vscode = Directory.CreateDirectory(Path.Combine(_sandbox.Workspace, ".vscode")).FullName;
        await File.WriteAllTextAsync(Path.Combine(vscode, "mcp.json"), $$$"""{"servers":{"weather":{"command":"dotnet","args":[{{{server}}},"stdio"],"env":{"WHICH":"project"} } } }""", TestContext.Current.CancellationToken);
        var claude = Directory.CreateDirectory(Path.Combine(_sandbox.Home, ".config", "Claude")).FullName;
        await File.WriteAllTextAsync(Path.Combine(claude, "claude_desktop_config.json"), $$$"""{"mcpServers":{"weather":{"command":"dotnet","args":[{{{server}}},"stdio"],"env":{"WHICH":"desktop"} } } }""", TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        _sandbox.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary><c>servers --all --json</c> says which entry has the name, which is shadowed, and the id that reaches each.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task ServersAll_SameNameInTwoClients_ShowsWhichShadowsWhichAndTheIdOfEach()
    {
        var json = await _sandbox.RunAsync("servers", "--all", "--json", "--registry", _sandbox.Registry);
        var human = await _sandbox.RunAsync("servers", "--all", "--registry", _sandbox.Registry);

        Assert.True(json.ExitCode == 0, json.ToString());
        var root = json.Json();
        var servers = root.GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
        Assert.Equal("VsCode", servers["weather"].GetProperty("provenance").GetProperty("kind").GetString());
        Assert.Contains("weather.vscode", servers["weather"].GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        var alternate = servers["weather.claude-desktop"];
        Assert.Equal("weather", alternate.GetProperty("shadowedBy").GetString());
        Assert.Equal("ClaudeDesktop", alternate.GetProperty("provenance").GetProperty("kind").GetString());
        var definitions = root.GetProperty("definitions").EnumerateArray().ToList();
        Assert.Contains(definitions, d => d.GetProperty("definedId").GetString() == "weather" && d.GetProperty("role").GetString() == "Alternate" && d.GetProperty("serverId").GetString() == "weather.claude-desktop");
        Assert.Contains(definitions, d => d.GetProperty("role").GetString() == "Listed" && d.GetProperty("serverId").GetString() == "weather" && d.GetProperty("stableId").GetString() == "weather.vscode");
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains("weather.claude-desktop", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("shadowed by weather", human.Stdout, StringComparison.Ordinal);
    }

    /// <summary>Both definitions answer: the shadowed one under its suffixed id, with its own environment.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task Call_ShadowedEntryBySuffixedId_ReachesItsOwnDefinition()
    {
        var project = await _sandbox.RunAsync("call", "weather", "get_env", "--args", """{"name":"WHICH"}""", "--registry", _sandbox.Registry);
        var desktop = await _sandbox.RunAsync("call", "weather.claude-desktop", "get_env", "--args", """{"name":"WHICH"}""", "--registry", _sandbox.Registry);
        var stable = await _sandbox.RunAsync("call", "weather.vscode", "get_env", "--args", """{"name":"WHICH"}""", "--registry", _sandbox.Registry);

        Assert.True(project.ExitCode == 0, project.ToString());
        Assert.Contains("project", project.Stdout, StringComparison.Ordinal);
        Assert.True(desktop.ExitCode == 0, desktop.ToString());
        Assert.Contains("desktop", desktop.Stdout, StringComparison.Ordinal);
        Assert.True(stable.ExitCode == 0, stable.ToString());
        Assert.Contains("project", stable.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Regression (outside trial of issue 12 item 6): with both entries imported, Claude Desktop's 'weather' is folded into
    /// its imported manifest, yet 'servers --all' said "'weather' also reaches it" while 'weather' reaches the project's
    /// entry. Every id that 'servers --all' names for a definition must reach that definition, and the text agrees with --json.
    /// </summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task ServersAll_BothEntriesImported_EveryIdNamedForADefinitionReachesIt()
    {
        var target = Path.Combine(_sandbox.Root, "imported");
        var import = await _sandbox.RunAsync("config", "import", "--registry", target);
        Assert.True(import.ExitCode == 0, import.ToString());

        await AssertEveryNamedIdReachesItsDefinitionAsync(target);
    }

    /// <summary>
    /// Regression (outside trial of issue 12 item 6): only the project's entry was imported (Claude Desktop's was added
    /// later). The project's entry, folded into 'local.weather', resolves by the working directory and keeps the name
    /// 'weather'; Claude Desktop's is shadowed and reached as 'weather.claude-desktop'. Before, Claude Desktop's entry took
    /// 'weather' while 'servers --all' still said 'weather' reaches the project's entry.
    /// </summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task ServersAll_ProjectEntryImportedOnly_ShadowedEntryNamedByAnIdThatReachesIt()
    {
        var target = Path.Combine(_sandbox.Root, "imported");
        var import = await _sandbox.RunAsync("config", "import", "--registry", target);
        Assert.True(import.ExitCode == 0, import.ToString());
        File.Delete(Path.Combine(target, "local.weather.claude-desktop.json"));

        var json = await _sandbox.RunAsync("servers", "--all", "--json", "--registry", target);
        var human = await _sandbox.RunAsync("servers", "--all", "--registry", target);
        var plain = await _sandbox.RunAsync("call", "weather", "get_env", "--args", """{"name":"WHICH"}""", "--registry", target);

        Assert.True(json.ExitCode == 0, json.ToString());
        var desktop = Assert.Single(json.Json().GetProperty("servers").EnumerateArray(), s => s.GetProperty("provenance").GetProperty("kind").GetString() == "ClaudeDesktop");
        Assert.Equal("weather.claude-desktop", desktop.GetProperty("id").GetString());
        Assert.Equal("weather", desktop.TryGetProperty("shadowedBy", out var by) ? by.GetString() : null);
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Contains("project", plain.Stdout, StringComparison.Ordinal);
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains("reach this one as weather.claude-desktop", human.Stdout, StringComparison.Ordinal);
        await AssertEveryNamedIdReachesItsDefinitionAsync(target);
    }

    /// <summary>Importing both entries writes one manifest each (the shadowed one under its suffixed id), and each is then listed once.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task Import_SameNameInTwoClients_ImportsBothAndListsEachOnce()
    {
        var target = Path.Combine(_sandbox.Root, "imported");

        var import = await _sandbox.RunAsync("config", "import", "--registry", target);
        var servers = await _sandbox.RunAsync("servers", "--json", "--registry", target);
        var desktop = await _sandbox.RunAsync("call", "weather.claude-desktop", "get_env", "--args", """{"name":"WHICH"}""", "--registry", target);

        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.True(File.Exists(Path.Combine(target, "local.weather.claude-desktop.json")), import.ToString());
        Assert.Equal(["local.weather", "local.weather.claude-desktop"], servers.Json().GetProperty("servers").EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        Assert.True(desktop.ExitCode == 0, desktop.ToString());
        Assert.Contains("desktop", desktop.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs 'servers --all' (JSON and text) and calls every id named for each reachable definition: each must answer with
    /// that definition's own environment, and the text names the same ids as --json.
    /// </summary>
    private async Task AssertEveryNamedIdReachesItsDefinitionAsync(string registry)
    {
        var json = await _sandbox.RunAsync("servers", "--all", "--json", "--registry", registry);
        var human = await _sandbox.RunAsync("servers", "--all", "--registry", registry);
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.True(human.ExitCode == 0, human.ToString());
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var definition in json.Json().GetProperty("definitions").EnumerateArray().Where(d => d.GetProperty("role").GetString() != "Overridden"))
        {
            var provenance = definition.GetProperty("provenance");
            var which = provenance.GetProperty("kind").GetString() == "ClaudeDesktop" || provenance.GetProperty("location").GetString()!.Contains("claude-desktop", StringComparison.Ordinal) ? "desktop" : "project";
            var ids = definition.GetProperty("reachedAs").EnumerateArray().Select(i => i.GetString()!).ToList();
            Assert.Contains(definition.GetProperty("serverId").GetString(), ids);
            foreach (var id in ids)
            {
                Assert.True(expected.TryAdd(id, which) || expected[id] == which, $"'{id}' is named for a {which} definition and for a {expected[id]} one.\n{json}");
                Assert.Contains($"'{id}'", human.Stdout, StringComparison.Ordinal);
            }
        }

        foreach (var (id, which) in expected)
        {
            var call = await _sandbox.RunAsync("call", id, "get_env", "--args", """{"name":"WHICH"}""", "--registry", registry);
            Assert.True(call.ExitCode == 0, $"'{id}' (named for the {which} definition):\n{call}");
            Assert.True(call.Stdout.Contains(which, StringComparison.Ordinal), $"'{id}' is named for the {which} definition but reached another:\n{call}\n{json}");
        }
    }
}
