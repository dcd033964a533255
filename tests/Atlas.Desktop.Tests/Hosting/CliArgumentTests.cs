using System.Diagnostics;
using System.Text;

namespace Atlas.Desktop.Tests.Hosting;

/// <summary>The <c>atlas</c> command line's errors about option values: what the option takes and the value given, never a
/// CLR type name (regression: "as expected type 'System.Nullable`1[System.Int64]'").</summary>
[Trait("Speed", "slow")]
public sealed class CliArgumentTests
{
    [Theory]
    [InlineData("--quota takes a size in bytes of at least 0, not 'abc'.", "devices", "permissions", "dev-1", "--quota", "abc")]
    [InlineData("--quota takes a size in bytes of at least 0, not -5.", "devices", "permissions", "dev-1", "--quota", "-5")]
    [InlineData("--port takes a port number from 0 to 65535, not 'https'.", "serve", "--port", "https")]
    [InlineData("--port takes a port number from 0 to 65535, not 70000.", "serve", "--port", "70000")]
    public async Task NumberOption_WrongValue_UsageErrorSaysWhatItTakes(string expected, params string[] args)
    {
        using var sandbox = new TestSandbox("acli-");

        var (exit, output) = await RunAtlasAsync([.. args, "--data-dir", sandbox.Root]);

        Assert.Equal(1, exit);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunAtlasAsync(string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "atlas.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        using var process = Process.Start(start)!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeouts.Default);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stderr + await stdout);
    }
}
