using System.Diagnostics;
using System.Text;

namespace Atlas.Desktop.Tests.Connect;

/// <summary>Runs <c>dotnet atlas.dll connect …</c> as a real child process with its own state directory, feeding stdin
/// lines and collecting stdout and stderr.</summary>
internal sealed class ConnectProcess : IDisposable
{
    public ConnectProcess()
    {
        StateDir = Path.Combine(Path.GetTempPath(), "atc-" + Guid.NewGuid().ToString("N")[..10]);
        WorkDir = Path.Combine(StateDir, "work");
        Directory.CreateDirectory(WorkDir);
    }

    public string StateDir { get; }

    /// <summary>The child's working directory (for /get and /put with relative names).</summary>
    public string WorkDir { get; }

    public string? CredentialsPath => Directory.Exists(Path.Combine(StateDir, "desktops"))
        ? Directory.EnumerateFiles(Path.Combine(StateDir, "desktops"), "credentials.json", SearchOption.AllDirectories).FirstOrDefault()
        : null;

    /// <summary>Runs <c>atlas connect --state-dir … args</c>; <paramref name="stdin"/> lines are written, then stdin is
    /// closed (end of input ends an interactive session).</summary>
    public async Task<ConnectResult> RunAsync(string[] args, params string[] stdin)
    {
        var atlas = Path.Combine(AppContext.BaseDirectory, "atlas.dll");
        var start = new ProcessStartInfo("dotnet", [atlas, "connect", "--state-dir", StateDir, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = WorkDir,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        foreach (var line in stdin)
        {
            await process.StandardInput.WriteLineAsync(line);
        }

        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var result = new ConnectResult(process.ExitCode, await stdout, await stderr);
        TestContext.Current.TestOutputHelper?.WriteLine($"atlas connect {string.Join(' ', args)} → {result.ExitCode}\n--- stdout\n{result.Stdout}\n--- stderr\n{result.Stderr}");
        return result;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(StateDir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}

internal sealed record ConnectResult(int ExitCode, string Stdout, string Stderr);
