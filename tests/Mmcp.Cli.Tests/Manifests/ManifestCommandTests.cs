namespace Mmcp.Cli.Tests.Manifests;

[Trait("Speed", "slow")]
public sealed class ManifestCommandTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Validate_ValidAndInvalidFiles_ReportsEachAndExitsWith6()
    {
        await _sandbox.WriteTestServerAsync("io.example.good");
        var bad = Path.Combine(_sandbox.Root, "bad.json");
        await File.WriteAllTextAsync(bad, """{"manifestVersion":1,"id":"Bad Id","name":"x","description":"x","version":"1","transport":{"type":"socket"}}""", TestContext.Current.CancellationToken);
        var good = Path.Combine(_sandbox.Registry, "io.example.good.json");

        var result = await _sandbox.RunAsync("manifest", "validate", good, bad, "--json");
        var human = await _sandbox.RunAsync("manifest", "validate", bad);

        Assert.True(result.ExitCode == 6, result.ToString());
        var files = result.Json().GetProperty("files").EnumerateArray().ToList();
        Assert.True(files[0].GetProperty("valid").GetBoolean());
        Assert.Equal("io.example.good", files[0].GetProperty("id").GetString());
        Assert.False(files[1].GetProperty("valid").GetBoolean());
        var fields = files[1].GetProperty("diagnostics").EnumerateArray().Select(d => d.GetProperty("field").GetString()).ToList();
        Assert.Contains("id", fields);
        Assert.Contains("transport.path", fields);
        Assert.Contains("'Bad Id'", result.Stdout, StringComparison.Ordinal); // JSON for people too: quotes as typed, not \u0027
        Assert.DoesNotContain("\\u00", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(6, human.ExitCode);
        Assert.Contains("transport.path", human.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_AllValid_ExitsWith0()
    {
        await _sandbox.WriteTestServerAsync("io.example.good");

        var result = await _sandbox.RunAsync("manifest", "validate", Path.Combine(_sandbox.Registry, "io.example.good.json"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("ok", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schema_PrintsTheJsonSchema()
    {
        var result = await _sandbox.RunAsync("manifest", "schema");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("\"$schema\"", result.Stdout, StringComparison.Ordinal);
    }
}
