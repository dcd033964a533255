using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using Mmcp.Core.Manifests;

namespace Mmcp.Server.Runtime;

/// <summary>
/// Writes the build-time manifests of an app's generated servers: <c>app --mmcp-export-manifest DIR</c>, handled by a
/// generated module initializer before <c>Main</c> runs (so no host, configuration or service is needed). The build runs
/// it after build and publish so that <c>&lt;id&gt;.json</c> lands next to the app.
/// </summary>
/// <remarks>
/// The written manifest has a relative socket name (resolved per user by <c>mmcp install</c>) and a <c>launch</c> entry
/// relative to the app's directory (<c>./App</c>, or <c>dotnet ./App.dll</c>), resolved on install too.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ManifestExport
{
    /// <summary>The command-line argument, followed by the output directory.</summary>
    public const string Argument = "--mmcp-export-manifest";

    /// <summary>Whether this process was started with <see cref="Argument"/>.</summary>
    /// <param name="directory">The output directory (empty when missing).</param>
    /// <returns><see langword="true"/> when an export was requested.</returns>
    public static bool IsRequested([NotNullWhen(true)] out string? directory)
    {
        var args = Environment.GetCommandLineArgs();
        var index = Array.IndexOf(args, Argument);
        directory = index < 0 ? null : index + 1 < args.Length ? args[index + 1] : string.Empty;
        return directory is not null;
    }

    /// <summary>Exports the manifests and ends the process (exit code 0 on success).</summary>
    /// <param name="directory">The output directory.</param>
    /// <param name="definitions">The app's servers.</param>
    [DoesNotReturn]
    public static void ExportAndExit(string directory, params MmcpServerDefinition[] definitions)
    {
        var code = Export(directory, definitions, CurrentLaunch(), Console.Out, Console.Error);
        Console.Out.Flush();
        Environment.Exit(code);
    }

    /// <summary>Writes one <c>&lt;id&gt;.json</c> per server into <paramref name="directory"/>.</summary>
    /// <param name="directory">The output directory (created when missing).</param>
    /// <param name="definitions">The servers.</param>
    /// <param name="launch">The launch entry, relative to <paramref name="directory"/>, or <see langword="null"/>.</param>
    /// <param name="output">Where written paths are reported.</param>
    /// <param name="error">Where problems are reported.</param>
    /// <returns>0 on success, 1 when a manifest is invalid, 2 for a usage error.</returns>
    public static int Export(string directory, IReadOnlyList<MmcpServerDefinition> definitions, LaunchSpec? launch, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (string.IsNullOrWhiteSpace(directory))
        {
            error.WriteLine($"{Argument} needs the directory to write into, for example: app {Argument} bin/Release/net10.0");
            return 2;
        }

        foreach (var definition in definitions)
        {
            var read = ManifestReader.Read(definition.ManifestJson, $"generated manifest of {definition.Id}");
            if (read.Manifest is not { } manifest)
            {
                foreach (var diagnostic in read.Diagnostics)
                {
                    error.WriteLine(diagnostic.ToString());
                }

                return 1;
            }

            var path = Path.Combine(Path.GetFullPath(directory), definition.Id + ".json");
            // Runs from the app's module initializer (no synchronization context) in a process that exits right after.
#pragma warning disable RS0030 // sync over async is safe here: nothing else runs yet
            ManifestWriter.WriteFileAsync(manifest.WithTransportAndLaunch(manifest.Transport, launch), path).GetAwaiter().GetResult();
#pragma warning restore RS0030
            output.WriteLine($"mmcp: wrote {path}");
        }

        return 0;
    }

    /// <summary>How to start this app, relative to its own directory: <c>./App</c> for an app host or native executable, <c>dotnet ./App.dll</c> otherwise.</summary>
    /// <returns>The launch entry, or <see langword="null"/> when the process path is unknown.</returns>
    public static LaunchSpec? CurrentLaunch()
    {
        var processPath = Environment.ProcessPath;
        if (string.IsNullOrEmpty(processPath))
        {
            return null;
        }

        var entry = Environment.GetCommandLineArgs().FirstOrDefault();
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase) && entry is not null && entry.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            return new LaunchSpec { Command = "dotnet", Args = ["./" + Path.GetFileName(entry)] };
        }

        return new LaunchSpec { Command = "./" + Path.GetFileName(processPath) };
    }
}
