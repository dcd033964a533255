using System.CommandLine;
using Mmcp.Cli.Hosting;
using Mmcp.Client;
using Mmcp.Core.Manifests;
using Spectre.Console;

namespace Mmcp.Cli.Servers;

/// <summary><c>mmcp servers</c>: what discovery found, where each server comes from, and what is wrong with the rest.</summary>
internal static class ServersCommand
{
    public static Command Create(GlobalOptions global)
    {
        var check = new Option<bool>("--check") { Description = "Connect to every server (starting it if needed) and report whether it answers and how many tools it offers." };
        var command = new Command("servers", "List the discovered servers with their transport, state and provenance, and every problem found in manifests and client configurations.") { check };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RunAsync(context, parse.GetValue(check), token), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, bool check, CancellationToken cancellationToken)
    {
        var hub = context.Hub;
        var discovery = await hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false);
        Dictionary<string, (ServerListResult Result, int Tools)>? checks = null;
        if (check)
        {
            var listing = await hub.ListToolsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            checks = listing.Servers.ToDictionary(s => s.ServerId, s => (s, listing.Tools.Count(t => t.ServerId == s.ServerId)), StringComparer.Ordinal);
        }

        var servers = discovery.Servers.Select(s => (Info: s, Status: hub.GetServerStatus(s.Id))).ToList();
        if (context.Json)
        {
            CliContext.WriteJson(
                new ServersOutput(
                    [.. servers.Select(s => new ServerDto(
                        s.Info.Id,
                        s.Info.Manifest.Name,
                        s.Info.Manifest.Description,
                        s.Info.Manifest.Version,
                        Dto.Transport(s.Info.Manifest.Transport),
                        s.Info.Manifest.Launch is not null,
                        s.Info.Manifest.ProtocolVersion,
                        s.Info.Manifest.Categories,
                        s.Info.Manifest.Permissions,
                        Dto.Provenance(s.Info.Server.Provenance),
                        [.. s.Info.Server.Shadowed.Select(Dto.Provenance)],
                        Status(s.Status)) { ToolCount = checks?.GetValueOrDefault(s.Info.Id).Tools })],
                    [.. discovery.Diagnostics.Select(Dto.Diagnostic)]),
                CliJsonContext.Default.ServersOutput);
        }
        else
        {
            Render(context, servers, checks, discovery.Diagnostics);
        }

        return checks is not null && checks.Values.Any(c => c.Result.Failure is not null) ? ExitCodes.ServerUnavailable : ExitCodes.Ok;
    }

    private static StatusDto Status(ServerStatus s) =>
        new(s.State.ToString(), s.ConsecutiveFailures, Dto.Failure(s.LastFailure), s.RetryAt, s.ProtocolVersion, s.ProcessId);

    private static void Render(CliContext context, List<(HubServerInfo Info, ServerStatus Status)> servers, Dictionary<string, (ServerListResult Result, int Tools)>? checks, IReadOnlyList<ManifestDiagnostic> diagnostics)
    {
        if (servers.Count == 0)
        {
            context.Out.MarkupLine("No servers were discovered.");
            context.Out.MarkupLine("[grey]Install an Mmcp app (it registers a manifest), put manifests in a registry directory (--registry DIR or MMCP_REGISTRY_PATH), or add servers to Claude Desktop, VS Code or Cursor.[/]");
        }
        else
        {
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn("ID")
                .AddColumn("NAME")
                .AddColumn("TRANSPORT")
                .AddColumn(checks is null ? "STATE" : "CHECK")
                .AddColumn("FROM");
            foreach (var (info, status) in servers)
            {
                var transport = Dto.Transport(info.Manifest.Transport);
                var state = checks is null
                    ? status.State.ToString()
                    : checks.TryGetValue(info.Id, out var c) && c.Result.Failure is { } f ? $"[red]{f.Code}[/]" : $"[green]ok[/] ({checks[info.Id].Tools} tools)";
                var from = Markup.Escape(info.Server.Provenance.ToString())
                    + string.Concat(info.Server.Shadowed.Select(s => $"\n[grey]shadows {Markup.Escape(s.ToString())}[/]"));
                table.AddRow(
                    new Markup(Markup.Escape(info.Id)),
                    new Markup(Markup.Escape(info.Manifest.Name)),
                    new Markup($"{transport.Type}: {Markup.Escape(transport.Display ?? string.Empty)}{(info.Manifest.Launch is null ? string.Empty : " [grey](launch on demand)[/]")}"),
                    new Markup(checks is null ? Markup.Escape(state) : state),
                    new Markup(from));
            }

            context.Out.Write(table);
        }

        foreach (var failure in checks?.Values.Select(c => c.Result.Failure).OfType<ServerFailure>() ?? [])
        {
            context.Error.MarkupLineInterpolated($"[red]{failure.Code}:[/] {failure.Message}");
        }

        foreach (var d in diagnostics)
        {
            var color = d.Severity == DiagnosticSeverity.Error ? "red" : "yellow";
            context.Error.MarkupLine($"[{color}]{Markup.Escape(d.ToString())}[/]");
        }
    }
}
