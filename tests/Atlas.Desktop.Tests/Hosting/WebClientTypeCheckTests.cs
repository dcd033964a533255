using System.Diagnostics;

namespace Atlas.Desktop.Tests.Hosting;

/// <summary>The web client's JavaScript (wwwroot, <c>// @ts-check</c> with JSDoc types) type-checked by the TypeScript
/// compiler pinned in eng/npm, with the settings of src/Atlas.Desktop/web/tsconfig*.json.</summary>
[Trait("Speed", "slow")]
public sealed class WebClientTypeCheckTests
{
    /// <summary>tsc --checkJs --noEmit finds no error in the pages' modules, the admin page's included (fully strict),
    /// nor the service worker.</summary>
    [Theory]
    [Trait("Issue13", "ts-check")]
    [InlineData("tsconfig.json")]
    [InlineData("tsconfig.sw.json")]
    public async Task Tsc_WebClientSources_ReportNoTypeError(string project)
    {
        var root = Repository.Root;
        var tsc = Path.Combine(root, "eng", "npm", "node_modules", "typescript", "bin", "tsc");
        Assert.True(File.Exists(tsc), $"TypeScript is not installed ({tsc} is missing). Run ./eng/install-deps.sh from the repository root, then run the tests again.");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { tsc, "-p", Path.Combine(root, "src", "Atlas.Desktop", "web", project), "--pretty", "false" })
        {
            start.ArgumentList.Add(argument);
        }

        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 0, $"tsc -p {project} exited with {process.ExitCode}:\n{await output}{await error}");
    }
}
