using System.CommandLine;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using Mmcp.Core.Installation;
using Spectre.Console;

namespace Mmcp.Cli.Install;

/// <summary>
/// <c>mmcp install</c> and <c>mmcp uninstall</c>: put an app's manifest into the user registry (the desktop analogue of
/// installing an Android app with an intent filter), or take it out.
/// </summary>
internal static class InstallCommands
{
    public static Command CreateInstall(GlobalOptions global)
    {
        var path = new Argument<string>("path") { Description = "The app's manifest (<id>.json), the app's directory, or its executable (the manifest next to it is used)." };
        var force = new Option<bool>("--force") { Description = "Install even when another source already defines this server id (it will be shadowed or replaced)." };
        var launchArgs = new Option<string[]>("--launch-arg") { Description = "An extra argument for the app when a hub starts it on demand (repeatable).", AllowMultipleArgumentsPerToken = false };
        var install = new Command("install", "Register an app's MCP server: validate its manifest, resolve its socket and launch command for this user, and write it into the user registry directory.")
        {
            path, force, launchArgs,
        };
        install.SetAction((parse, ct) => CliContext.RunAsync(parse, global, async (context, token) =>
        {
            var options = Options(context, parse.GetValue(force));
            foreach (var arg in parse.GetValue(launchArgs) ?? [])
            {
                options.LaunchArguments.Add(arg);
            }

            InstallResult result;
            try
            {
                result = await ManifestInstaller.InstallAsync(parse.GetValue(path)!, options, token).ConfigureAwait(false);
            }
            catch (InstallException ex)
            {
                return context.Fail("InstallFailed", ex.Message, ex.Diagnostics.Count > 0 ? ExitCodes.InvalidManifest : ExitCodes.Error);
            }

            if (context.Json)
            {
                CliContext.WriteJson(
                    new InstallOutput(result.Manifest.Id, result.ManifestPath, result.SourcePath, result.Replaced, Dto.Transport(result.Manifest.Transport), [.. result.Shadowed.Select(Dto.Provenance)]),
                    CliJsonContext.Default.InstallOutput);
            }
            else
            {
                var m = result.Manifest;
                context.Out.MarkupLineInterpolated($"[green]{(result.Replaced ? "reinstalled" : "installed")}[/] {m.Id} {m.Version} → {result.ManifestPath}");
                context.Out.MarkupLineInterpolated($"  transport: {Describe(m)}");
                if (m.Launch is { } launch)
                {
                    context.Out.MarkupLineInterpolated($"  started on demand with: {CommandLine.Format(launch.Command, launch.Args)}");
                }

                foreach (var shadowed in result.Shadowed)
                {
                    context.Warn($"it now shadows {shadowed}");
                }
            }

            return ExitCodes.Ok;
        }, ct));
        return install;
    }

    public static Command CreateUninstall(GlobalOptions global)
    {
        var id = new Argument<string>("id") { Description = "The server id (see 'mmcp servers')." };
        var uninstall = new Command("uninstall", "Remove a server's manifest from the user registry directory. Servers defined by other tools' configurations are not touched (they are listed).") { id };
        uninstall.SetAction((parse, ct) => CliContext.RunAsync(parse, global, async (context, token) =>
        {
            UninstallResult result;
            try
            {
                result = await ManifestInstaller.UninstallAsync(parse.GetValue(id)!, Options(context, force: false), token).ConfigureAwait(false);
            }
            catch (ArgumentException ex)
            {
                return context.Fail("InvalidId", ex.Message, ExitCodes.Usage);
            }

            if (context.Json)
            {
                CliContext.WriteJson(new UninstallOutput(result.Id, result.Removed, result.RemovedPath, [.. result.StillDefinedBy.Select(Dto.Provenance)]), CliJsonContext.Default.UninstallOutput);
            }
            else if (result.Removed)
            {
                context.Out.MarkupLineInterpolated($"[green]uninstalled[/] {result.Id} (removed {result.RemovedPath})");
            }
            else
            {
                context.Out.MarkupLineInterpolated($"{result.Id} is not installed in the user registry.");
            }

            foreach (var other in result.StillDefinedBy)
            {
                context.Warn($"'{result.Id}' is still defined by {other}");
            }

            return result.Removed ? ExitCodes.Ok : ExitCodes.NotFound;
        }, ct));
        return uninstall;
    }

    private static InstallOptions Options(CliContext context, bool force) => new()
    {
        RegistryDirectory = context.RegistryDirectories.Count > 0 ? Path.GetFullPath(context.RegistryDirectories[0]) : null,
        Force = force,
        Sources = context.CreateRegistryOptions(),
    };

    private static string Describe(Core.Manifests.ServerManifest m) => m.Transport switch
    {
        Core.Manifests.SocketTransport s => $"socket {s.Path}",
        Core.Manifests.StdioTransport s => $"stdio {s.Command} {string.Join(' ', s.Args)}",
        Core.Manifests.HttpTransport h => $"http {h.Url}",
        _ => m.Transport.Type,
    };
}
