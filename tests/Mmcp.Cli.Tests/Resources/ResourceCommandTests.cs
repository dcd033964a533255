namespace Mmcp.Cli.Tests.Resources;

[Trait("Speed", "slow")]
public sealed class ResourceCommandTests : IAsyncLifetime
{
    private readonly CliSandbox _sandbox = new();

    public async ValueTask InitializeAsync() => await _sandbox.WriteTestServerAsync("io.example.alpha");

    public ValueTask DisposeAsync()
    {
        _sandbox.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Resources_Json_ListsResourcesAndTemplates()
    {
        var result = await Run("resources", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal("test://static", json.GetProperty("resources")[0].GetProperty("uri").GetString());
        Assert.Equal("test://items/{id}", json.GetProperty("templates")[0].GetProperty("uriTemplate").GetString());
    }

    /// <summary>Resources and prompts report a failed server as a warning too, and --strict makes it exit code 8.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public async Task ResourcesAndPrompts_ServerFails_WarningAndStrictExitsWith8()
    {
        await _sandbox.WriteManifestAsync("io.example.missing", """{"type":"stdio","command":"mmcp-no-such-program"}""");

        var resources = await Run("resources", "--json");
        var strictResources = await Run("resources", "--strict");
        var strictPrompts = await Run("prompts", "--strict", "--json");

        Assert.True(resources.ExitCode == 0, resources.ToString());
        Assert.Equal("io.example.missing", Assert.Single(resources.Json().GetProperty("warnings").EnumerateArray()).GetProperty("server").GetString());
        Assert.True(strictResources.ExitCode == 8, strictResources.ToString());
        Assert.Contains("warning: io.example.missing", strictResources.Stderr, StringComparison.Ordinal);
        Assert.True(strictPrompts.ExitCode == 8, strictPrompts.ToString());
        Assert.Equal("LaunchFailed", Assert.Single(strictPrompts.Json().GetProperty("warnings").EnumerateArray()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Read_ByTemplate_PrintsTheContents()
    {
        var result = await Run("read", "io.example.alpha", "test://items/7");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("item 7", result.Stdout.Trim());
    }

    [Fact]
    public async Task Read_ToFile_WritesTheContents()
    {
        var file = Path.Combine(_sandbox.Root, "out.txt");

        var result = await Run("read", "io.example.alpha", "test://static", "--out", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("static content", await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Read_UnknownUri_ExitsWith3()
    {
        var result = await Run("read", "io.example.alpha", "test://nope", "--json");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Equal("NotFound", result.Json().GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Prompts_ListAndGet()
    {
        var list = await Run("prompts", "--json");
        var get = await Run("prompt", "io.example.alpha", "greet", "--args", """{"name":"Ann"}""");
        var missing = await Run("prompt", "io.example.alpha", "greet");

        Assert.True(list.ExitCode == 0, list.ToString());
        var prompt = list.Json().GetProperty("prompts")[0];
        Assert.Equal(("greet", "name", true), (prompt.GetProperty("name").GetString(), prompt.GetProperty("arguments")[0].GetProperty("name").GetString(), prompt.GetProperty("arguments")[0].GetProperty("required").GetBoolean()));
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Contains("Say hello to Ann", get.Stdout, StringComparison.Ordinal);
        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.Contains("needs the argument 'name'", missing.Stderr, StringComparison.Ordinal);
    }

    /// <summary>MCP prompt arguments are strings: a number or a boolean given in --args goes as its JSON text, as on the
    /// REST face (regression: the number went as a number and the server refused it, "expected string").</summary>
    [Fact]
    public async Task Prompt_ArgumentGivenAsANumber_IsSentAsItsText()
    {
        var get = await Run("prompt", "io.example.alpha", "greet", "--args", """{"name":5}""", "--json");

        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Contains("Say hello to 5", get.Stdout, StringComparison.Ordinal);
    }

    /// <summary>--out naming a folder, or a file in a folder that does not exist, is a usage error that says so
    /// (regression: "Access to the path '/tmp' is denied.").</summary>
    [Fact]
    public async Task Read_OutIsAFolderOrInAMissingFolder_UsageErrorSaysWhy()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_sandbox.Root, "out")).FullName;

        var toFolder = await Run("read", "io.example.alpha", "test://items/1", "--out", folder);
        var toMissing = await Run("read", "io.example.alpha", "test://items/1", "--out", Path.Combine(folder, "nope", "x.txt"));

        Assert.True(toFolder.ExitCode == 2, toFolder.ToString());
        Assert.Contains("is a folder; give a file path", toFolder.Stderr, StringComparison.Ordinal);
        Assert.True(toMissing.ExitCode == 2, toMissing.ToString());
        Assert.Contains("does not exist", toMissing.Stderr, StringComparison.Ordinal);
    }

    private Task<CliResult> Run(params string[] args) => _sandbox.RunAsync([.. args, "--registry", _sandbox.Registry, "--no-import"]);
}
