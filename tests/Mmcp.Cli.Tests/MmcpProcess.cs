using System.Diagnostics;
using System.Text.Json;

namespace Mmcp.Cli.Tests;

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

/// <summary>The test kit's sandbox (<see cref="TestSandbox"/>: home, registry, working directory) and the built <c>mmcp</c>
/// run as a child process inside it.</summary>
internal sealed class CliSandbox : TestSandbox
{
    public CliSandbox()
        : base("mc-")
    {
        CreateHome();
        CreateRegistry();
        CreateWorkDirectory();
    }

    /// <summary>The registry directory (not the default one: pass it with <c>--registry</c> or set <c>MMCP_REGISTRY_PATH</c>).</summary>
    public string Registry => RegistryDirectory;

    /// <summary>The working directory of <c>mmcp</c>.</summary>
    public string Workspace => WorkDirectory;

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
        ApplyTo(start);

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
            await process.WaitForExitAsync(ct).WaitAsync(TestTimeouts.Default, ct);
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
}
