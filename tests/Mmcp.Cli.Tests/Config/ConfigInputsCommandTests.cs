using System.Text.Json;

namespace Mmcp.Cli.Tests.Config;

/// <summary>Issue 12 item 6: <c>mmcp config inputs</c> stores VS Code input values privately and the hub uses them.</summary>
[Trait("Speed", "slow")]
public sealed class ConfigInputsCommandTests : IAsyncLifetime
{
    private const string Secret = "s3cret-value";
    private readonly CliSandbox _sandbox = new();

    public async ValueTask InitializeAsync()
    {
        var vscode = Directory.CreateDirectory(Path.Combine(_sandbox.Workspace, ".vscode")).FullName;
        var server = JsonSerializer.Serialize(CliSandbox.TestServerDll);
        await File.WriteAllTextAsync(
            Path.Combine(vscode, "mcp.json"),
            $$$"""{"inputs":[{"type":"promptString","id":"api-key","description":"Weather API key","password":true}],"servers":{"tester":{"command":"dotnet","args":[{{{server}}},"stdio"],"env":{"API_KEY":"${input:api-key}"} } } }""",
            TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        _sandbox.Dispose();
        return ValueTask.CompletedTask;
    }

    private string StorePath => Path.Combine(_sandbox.Home, ".config", "mmcp", "inputs.json");

    /// <summary>A value read from standard input is stored 0600 in a 0700 directory, reaches the server when it starts, and is never listed.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task InputsSet_FromStandardInput_StoredPrivatelyAndUsedWhenTheServerStarts()
    {
        var set = await _sandbox.RunWithInputAsync(Secret + "\n", "config", "inputs", "set", "api-key", "--json");
        var call = await _sandbox.RunAsync("call", "tester", "get_env", "--args", """{"name":"API_KEY"}""", "--registry", _sandbox.Registry);
        var list = await _sandbox.RunAsync("config", "inputs", "list", "--json");
        var human = await _sandbox.RunAsync("config", "inputs", "list");

        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Equal(StorePath, set.Json().GetProperty("file").GetString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StorePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(StorePath)!));
        Assert.True(call.ExitCode == 0, call.ToString());
        Assert.Contains(Secret, call.Stdout, StringComparison.Ordinal);
        Assert.True(list.ExitCode == 0, list.ToString());
        var input = Assert.Single(list.Json().GetProperty("inputs").EnumerateArray());
        Assert.Equal(("api-key", "stored", true), (input.GetProperty("id").GetString(), input.GetProperty("valueFrom").GetString(), input.GetProperty("password").GetBoolean()));
        Assert.EndsWith(Path.Combine(".vscode", "mcp.json"), input.GetProperty("declaredIn")[0].GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, list.Stdout + list.Stderr + human.Stdout + human.Stderr + set.Stdout + set.Stderr, StringComparison.Ordinal);
        Assert.Contains("api-key", human.Stdout, StringComparison.Ordinal);
    }

    /// <summary>MMCP_INPUT_&lt;ID&gt; wins over the stored value.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task InputsSet_EnvironmentVariableAlsoSet_EnvironmentWins()
    {
        var set = await _sandbox.RunWithInputAsync(Secret, "config", "inputs", "set", "api-key");
        _sandbox.Set("MMCP_INPUT_API_KEY", "from-environment");
        var call = await _sandbox.RunAsync("call", "tester", "get_env", "--args", """{"name":"API_KEY"}""", "--registry", _sandbox.Registry);
        var list = await _sandbox.RunAsync("config", "inputs", "list", "--json");

        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.True(call.ExitCode == 0, call.ToString());
        Assert.Contains("from-environment", call.Stdout, StringComparison.Ordinal);
        Assert.Equal("environment", Assert.Single(list.Json().GetProperty("inputs").EnumerateArray()).GetProperty("valueFrom").GetString());
    }

    /// <summary>Without a value the server does not start, and the error names the input and the command that sets it; unset twice exits with 3; an empty value is a usage error.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task Call_InputMissing_ErrorNamesTheInputAndTheCommandToSetIt()
    {
        var set = await _sandbox.RunWithInputAsync(Secret, "config", "inputs", "set", "api-key");
        var unset = await _sandbox.RunAsync("config", "inputs", "unset", "api-key");
        var again = await _sandbox.RunAsync("config", "inputs", "unset", "api-key", "--json");
        var empty = await _sandbox.RunWithInputAsync(string.Empty, "config", "inputs", "set", "api-key");
        var call = await _sandbox.RunAsync("call", "tester", "get_env", "--args", """{"name":"API_KEY"}""", "--registry", _sandbox.Registry);

        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.True(unset.ExitCode == 0, unset.ToString());
        Assert.True(again.ExitCode == 3, again.ToString());
        Assert.Equal("NotFound", again.Json().GetProperty("error").GetProperty("code").GetString());
        Assert.True(empty.ExitCode == 2, empty.ToString());
        Assert.True(call.ExitCode == 7, call.ToString());
        Assert.Contains("input 'api-key' has no value", call.Stderr, StringComparison.Ordinal);
        Assert.Contains("mmcp config inputs set api-key", call.Stderr, StringComparison.Ordinal);
    }
}
