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
}
