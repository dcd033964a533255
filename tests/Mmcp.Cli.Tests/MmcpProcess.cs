using System.Diagnostics;
using System.Text.Json;

namespace Mmcp.Cli.Tests;

internal static class TestConstants
{
    public static readonly TimeSpan DefaultTimeout = Atlas.Testing.TestTimeouts.Long;
}

/// <summary>The result of running the built <c>mmcp</c>.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public JsonElement Json()
    {
        try
        {
            return JsonDocument.Parse(Stdout).RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"stdout is not JSON ({ex.Message}).\nstdout:\n{Stdout}\nstderr:\n{Stderr}", ex);
        }
    }

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>A private home, registry and runtime directory, and the built <c>mmcp</c> run as a child process inside them.</summary>
internal sealed class CliSandbox : IDisposable
{
    public CliSandbox()
    {
        Root = Directory.CreateTempSubdirectory("mc-").FullName;
        Home = Directory.CreateDirectory(Path.Combine(Root, "home")).FullName;
        Registry = Directory.CreateDirectory(Path.Combine(Root, "reg")).FullName;
        Workspace = Directory.CreateDirectory(Path.Combine(Root, "work")).FullName;
    }

    public string Root { get; }

    public string Home { get; }

    public string Registry { get; }

    public string Workspace { get; }

    public static string TestServerDll => Path.Combine(AppContext.BaseDirectory, "Mmcp.TestServer.dll");

    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public Task<CliResult> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    /// <summary>Runs <c>mmcp</c> with <paramref name="input"/> written to its standard input (then closed).</summary>
    public async Task<CliResult> RunWithInputAsync(string? input, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "mmcp.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = Workspace,
        };
        start.Environment["HOME"] = Home;
        start.Environment["XDG_DATA_HOME"] = Path.Combine(Home, ".local", "share");
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(Home, ".config");
        start.Environment["XDG_CACHE_HOME"] = Path.Combine(Home, ".cache");
        start.Environment["XDG_DATA_DIRS"] = Path.Combine(Root, "nonexistent");
        start.Environment["MMCP_RUNTIME_DIR"] = Path.Combine(Root, "run");
        start.Environment.Remove("MMCP_REGISTRY_PATH");
        foreach (var (name, value) in Environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        var ct = TestContext.Current.CancellationToken;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct).WaitAsync(TestConstants.DefaultTimeout, ct);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public async Task WriteManifestAsync(string id, string transportJson, string? directory = null, string extra = "")
    {
        var json = $$"""{"manifestVersion":1,"id":"{{id}}","name":"{{id}}","description":"Test server {{id}}","version":"1.0.0","transport":{{transportJson}}{{extra}}}""";
        await File.WriteAllTextAsync(Path.Combine(directory ?? Registry, id + ".json"), json, TestContext.Current.CancellationToken);
    }

    public Task WriteTestServerAsync(string id, string? directory = null) =>
        WriteManifestAsync(id, $$"""{"type":"stdio","command":"dotnet","args":[{{JsonSerializer.Serialize(TestServerDll)}},"stdio"]}""", directory);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
