namespace Mmcp.Cli.Tests.Hosting;

public sealed class CliApplicationTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Theory]
    [InlineData("--help")]
    [InlineData("servers", "--help")]
    [InlineData("tools", "--help")]
    [InlineData("call", "--help")]
    [InlineData("read", "--help")]
    [InlineData("prompts", "--help")]
    [InlineData("manifest", "validate", "--help")]
    [InlineData("config", "import", "--help")]
    public async Task Help_EveryCommand_PrintsUsageAndExitsWith0(params string[] args)
    {
        var result = await _sandbox.RunAsync(args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Usage:", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_Root_DocumentsTheExitCodes()
    {
        var result = await _sandbox.RunAsync("--help");

        Assert.Contains("7 server could not be started", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("tools", "--no-such-option")]
    [InlineData("call", "a", "b", "--timeout", "soon")]
    public async Task BadCommandLine_ExitsWith2AndPointsAtHelp(params string[] args)
    {
        var result = await _sandbox.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--help' for usage", result.Stderr, StringComparison.Ordinal);
    }
}
