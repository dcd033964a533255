using System.Text.Json;

namespace Mmcp.Cli.Tests.Calls;

[Trait("Speed", "slow")]
public sealed class CallCommandTests : IAsyncLifetime
{
    private readonly CliSandbox _sandbox = new();

    public async ValueTask InitializeAsync() => await _sandbox.WriteTestServerAsync("io.example.alpha");

    public ValueTask DisposeAsync()
    {
        _sandbox.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Call_Json_PrintsTheMcpResult()
    {
        var result = await Run("call", "io.example.alpha", "echo", "--args", """{"text":"hi"}""", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("echo: hi", result.Json().GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task CallAndRead_Json_PrintTheResultAsTheServerWroteIt()
    {
        // A server on the official TypeScript SDK whose results carry a field no MCP revision defines, and an instant with 'Z'.
        var script = Path.Combine(Repository.Root, "tests", "Mmcp.Gateway.Tests", "Fidelity", "cut-server.mjs");
        var sdk = Path.Combine(Repository.Root, "eng", "npm", "node_modules", "@modelcontextprotocol", "sdk");
        await _sandbox.WriteManifestAsync("io.example.cut", $$"""{"type":"stdio","command":"node","args":[{{JsonSerializer.Serialize(script)}},{{JsonSerializer.Serialize(sdk)}}]}""");

        var call = await Run("call", "io.example.cut", "rich", "--json");
        var read = await Run("read", "io.example.cut", "cut://emoji", "--json");

        Assert.True(call.ExitCode == 0, call.ToString());
        Assert.Equal("a field no revision defines", call.Json().GetProperty("x-vendor").GetString());
        Assert.Equal("2026-01-02T03:04:05Z", call.Json().GetProperty("content")[0].GetProperty("annotations").GetProperty("lastModified").GetString());
        Assert.True(read.ExitCode == 0, read.ToString());
        Assert.Equal("read", read.Json().GetProperty("x-vendor").GetString());
    }

    /// <summary>--progress writes each notification as a line on standard error: its message after the count when it has one, and nothing after it when not.</summary>
    [Fact]
    public async Task Call_Progress_WritesALinePerNotification_WithoutATrailingSpace()
    {
        var withMessages = await Run("call", "io.example.alpha", "progress", "--args", """{"steps":2}""", "--progress");
        var quiet = await Run("call", "io.example.alpha", "progress", "--args", """{"steps":2,"quiet":true}""", "--progress");

        Assert.True(withMessages.ExitCode == 0, withMessages.ToString());
        Assert.Contains("progress 1/2 step 1\n", withMessages.Stderr.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("progress 2/2 step 2\n", withMessages.Stderr.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.True(quiet.ExitCode == 0, quiet.ToString());
        Assert.Contains("progress 1/2\n", quiet.Stderr.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("progress 2/2\n", quiet.Stderr.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Equal("done 2", quiet.Stdout.Trim());
    }

    [Fact]
    public async Task Call_AggregatedNameAndArgsFromFile_PrintsText()
    {
        var file = Path.Combine(_sandbox.Root, "args.json");
        await File.WriteAllTextAsync(file, """{"a": 40, "b": 2}""", TestContext.Current.CancellationToken);

        var result = await Run("call", "io_example_alpha__add", "--args", "@" + file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("42", result.Stdout.Trim());
    }

    [Theory]
    [InlineData(3, "UnknownServer", "call", "io.example.nobody", "echo")]
    [InlineData(3, "UnknownTool", "call", "io.example.alpha", "nope")]
    [InlineData(3, "UnknownTool", "call", "io_example_alpha__nope")]
    [InlineData(4, null, "call", "io.example.alpha", "fail", "--args", """{"message":"it broke"}""")]
    [InlineData(2, "Usage", "call", "io.example.alpha", "echo", "--args", """{"text": """)]
    [InlineData(2, "Usage", "call", "io.example.alpha", "echo", "--args", "[1,2]")]
    [InlineData(5, "CallTimeout", "call", "io.example.alpha", "hang", "--timeout", "0.5")]
    [InlineData(7, "ServerCrashed", "call", "io.example.alpha", "crash", "--args", """{"exitCode":3,"message":"gone"}""")]
    public async Task Call_Failures_HaveMeaningfulExitCodesAndJsonErrors(int exitCode, string? code, params string[] args)
    {
        var result = await Run([.. args, "--json"]);

        Assert.True(result.ExitCode == exitCode, result.ToString());
        if (code is not null)
        {
            var error = result.Json().GetProperty("error");
            Assert.Equal(code, error.GetProperty("code").GetString());
            Assert.Equal(exitCode, error.GetProperty("exitCode").GetInt32());
            Assert.False(string.IsNullOrWhiteSpace(result.Stderr));
        }
        else
        {
            Assert.True(result.Json().GetProperty("isError").GetBoolean());
        }
    }

    [Fact]
    public async Task Call_ToolError_IsPrintedOnStandardErrorWithExitCode4()
    {
        var result = await Run("call", "io.example.alpha", "fail", "--args", """{"message":"it broke"}""");

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("it broke", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout.Trim());
    }

    [Fact]
    public async Task Call_ServerCrashed_ShowsItsLastStandardErrorLines()
    {
        var result = await Run("call", "io.example.alpha", "crash", "--args", """{"exitCode":3,"message":"disk quota exceeded"}""");

        Assert.True(result.ExitCode == 7, result.ToString());
        Assert.Contains("exited with code 3", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("disk quota exceeded", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_MissingArgument_IsAUsageError()
    {
        var result = await Run("call");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("mmcp call --help", result.Stderr, StringComparison.Ordinal);
    }

    private Task<CliResult> Run(params string[] args) => _sandbox.RunAsync([.. args, "--registry", _sandbox.Registry, "--no-import"]);
}
