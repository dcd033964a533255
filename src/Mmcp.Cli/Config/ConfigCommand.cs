using System.CommandLine;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Spectre.Console;

namespace Mmcp.Cli.Config;

/// <summary><c>mmcp config import</c>: copy the servers of other MCP clients' configurations into the registry as manifests.</summary>
internal static class ConfigCommand
{
    public static Command Create(GlobalOptions global)
    {
        var preview = new Option<bool>("--preview") { Description = "Show exactly what would be imported (full commands, provenance) and write nothing." };
        var force = new Option<bool>("--force") { Description = "Overwrite manifests that already exist in the registry directory." };
        var import = new Command("import", "Import the servers of Claude Desktop, VS Code and Cursor configurations (and MCP Registry server.json files) as manifests in the user registry directory (the first --registry, else MMCP_REGISTRY_PATH's first entry or $XDG_DATA_HOME/mmcp/servers).") { preview, force };
        import.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => ImportAsync(context, parse.GetValue(preview), parse.GetValue(force), token), ct));
        return new Command("config", "Work with other MCP clients' configurations.") { import, InputsCommand.Create(global) };
    }

    private static async Task<int> ImportAsync(CliContext context, bool preview, bool force, CancellationToken cancellationToken)
    {
        var registry = context.CreateRegistryOptions();
        registry.ImportClientConfigs = true;
        var target = context.RegistryDirectories.Count > 0 ? Path.GetFullPath(context.RegistryDirectories[0]) : RegistryPaths.GetUserRegistryDirectory(registry.Environment);
        var sources = registry.CreateSources().Where(s => s.Kind is not (ServerSourceKind.ManifestDirectory or ServerSourceKind.Programmatic)).ToList();
        var output = new List<ImportSourceDto>();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var tags = ServerRegistry.SourceTags(sources);
        foreach (var (source, tag) in sources.Zip(tags))
        {
            var read = await source.ReadAsync(cancellationToken).ConfigureAwait(false);
            var servers = new List<ImportServerDto>();
            foreach (var (imported, provenance) in read.Servers.Select(s => (s.Manifest, s.Provenance)))
            {
                // Manifest ids are reverse-DNS; configuration keys usually are not ("weather" becomes "local.weather").
                var manifest = ServerIds.IsValidManifestId(imported.Id) ? imported : imported.WithId($"{LocalPrefix}{imported.Id}");
                if (taken.Contains(manifest.Id) && ServerRegistry.Qualify(imported.Id, tag) is { } stable)
                {
                    // The same name in an earlier source: import this one under its stable suffixed id, as discovery lists it.
                    manifest = imported.WithId($"{LocalPrefix}{stable}");
                }

                var path = RegistryPaths.GetManifestPath(target, manifest.Id);
                string action;
                if (!taken.Add(manifest.Id))
                {
                    action = "skipped: an earlier source has the same id";
                }
                else if (File.Exists(path) && !force)
                {
                    action = preview ? "exists (use --force to overwrite)" : "skipped: exists (use --force to overwrite)";
                }
                else if (preview)
                {
                    action = "would import";
                }
                else
                {
                    await WritePrivateAsync(manifest, path, cancellationToken).ConfigureAwait(false);
                    action = "imported";
                }

                servers.Add(new ImportServerDto(manifest.Id, provenance.Key, manifest.Name, Dto.Transport(manifest.Transport), action, path) { DiscoveredAs = imported.Id });
            }

            output.Add(new ImportSourceDto(source.Kind.ToString(), source.DisplayName, File.Exists(source.DisplayName) || Directory.Exists(source.DisplayName), servers, [.. read.Diagnostics.Select(Dto.Diagnostic)]));
        }

        if (context.Json)
        {
            CliContext.WriteJson(new ImportOutput(preview, target, output), CliJsonContext.Default.ImportOutput);
        }
        else
        {
            Render(context, preview, target, output);
        }

        return ExitCodes.Ok;
    }

    private const string LocalPrefix = "local.";

    private static void Render(CliContext context, bool preview, string target, List<ImportSourceDto> sources)
    {
        context.Out.MarkupLineInterpolated($"{(preview ? "Preview: nothing is written. " : string.Empty)}Target registry directory: {target}");
        context.Out.MarkupLine("[grey]The configurations stay discovered too, but an entry identical to an imported manifest is listed once, under the manifest's id (its old id still reaches it); see 'mmcp servers --all'.[/]");
        foreach (var source in sources)
        {
            context.Out.WriteLine();
            context.Out.MarkupLineInterpolated($"[bold]{source.Kind}[/] {source.Path}{(source.Exists ? string.Empty : " (not found)")}");
            foreach (var s in source.Servers)
            {
                // Full commands, never truncated: this is what the user consents to run.
                context.Out.MarkupLineInterpolated($"  {s.Id} [grey](from '{s.Key}', discovered from the configuration as '{s.DiscoveredAs}')[/]: {s.Action}");
                context.Out.MarkupLineInterpolated($"    {s.Transport.Type}: {s.Transport.Display}");
                foreach (var (name, value) in (IEnumerable<KeyValuePair<string, string>>?)s.Transport.Env ?? [])
                {
                    context.Out.MarkupLineInterpolated($"    env {name}={value}");
                }

                foreach (var (name, value) in (IEnumerable<KeyValuePair<string, string>>?)s.Transport.Headers ?? [])
                {
                    context.Out.MarkupLineInterpolated($"    header {name}: {value}");
                }

                if (s.Transport.Cwd is { } cwd)
                {
                    context.Out.MarkupLineInterpolated($"    cwd {cwd}");
                }
            }

            foreach (var d in source.Diagnostics)
            {
                var color = d.Severity == "error" ? "red" : "yellow";
                context.Out.MarkupLine($"  [{color}]{Markup.Escape($"{d.Severity}: {(d.Field.Length > 0 ? d.Field + ": " : string.Empty)}{d.Message}")}[/]");
            }
        }
    }

    /// <summary>Writes atomically with mode 0600: imported definitions may carry secrets (API keys in env or headers).</summary>
    private static async Task WritePrivateAsync(ServerManifest manifest, string path, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            var stream = new FileStream(temp, options);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(ManifestWriter.ToUtf8Bytes(manifest), cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
