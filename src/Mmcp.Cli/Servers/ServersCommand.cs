using System.CommandLine;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using Mmcp.Client;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Spectre.Console;

namespace Mmcp.Cli.Servers;

/// <summary><c>mmcp servers</c>: what discovery found, where each server comes from, and what is wrong with the rest.</summary>
internal static class ServersCommand
{
    public static Command Create(GlobalOptions global)
    {
        var check = new Option<bool>("--check") { Description = "Connect to every server (starting it if needed) and report whether it answers and how many tools it offers." };
        var progress = new Option<bool>("--progress") { Description = "With --check: show on standard error which servers are still starting, also when standard error is not a terminal." };
        var all = new Option<bool>("--all") { Description = "Also list every definition found (shadowed, folded into an identical one, or overridden) and the id that reaches each." };
        var command = new Command("servers", "List the discovered servers with their transport, state and provenance, and every problem found in manifests and client configurations.") { check, all, progress };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RunAsync(context, parse.GetValue(check), parse.GetValue(all), parse.GetValue(progress), token), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, bool check, bool all, bool progress, CancellationToken cancellationToken)
    {
        if (check)
        {
            // A check waits for each server's live answer (its budgets), never a cached list while it starts: a remote
            // whose sign-in expired or was revoked must show, not look fine from the cache.
            context.AdjustHub = o => o.StartingServerListWait = o.LaunchTimeout + o.HandshakeTimeout + o.CallTimeout;
        }

        var hub = context.Hub;
        var discovery = await hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false);
        Dictionary<string, CheckDto>? checks = null;
        if (check)
        {
            var listing = await ListingProgress.RunAsync(context, progress, null, ct => hub.ListToolsAsync(cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            checks = listing.Servers.ToDictionary(s => s.ServerId, s => Check(context, s, listing.Tools.Count(t => t.ServerId == s.ServerId)), StringComparer.Ordinal);
        }

        var servers = discovery.Servers.Select(s => (Info: s, Status: hub.GetServerStatus(s.Id))).ToList();
        var snapshot = hub.Registry.Current;
        var definitions = snapshot.Definitions.Select(d => Dto.Definition(d, snapshot)).ToList();
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
                        Status(s.Status))
                    {
                        ToolCount = checks?.GetValueOrDefault(s.Info.Id)?.ToolCount,
                        Check = checks?.GetValueOrDefault(s.Info.Id),
                        ShadowedBy = s.Info.Server.ShadowedBy,
                        Aliases = s.Info.Server.Aliases,
                        Duplicates = [.. s.Info.Server.Duplicates.Select(Dto.Provenance)],
                    })],
                    [.. discovery.Diagnostics.Select(Dto.Diagnostic)])
                {
                    Definitions = all ? definitions : null,
                },
                CliJsonContext.Default.ServersOutput);
        }
        else
        {
            Render(context, servers, checks, discovery.Diagnostics);
            RenderDefinitions(context, definitions, all);
        }

        return ExitCode(checks);
    }

    /// <summary>0 when every server answered; 9 when the only problem is sign-ins to make; otherwise 7.</summary>
    private static int ExitCode(Dictionary<string, CheckDto>? checks)
    {
        if (checks is null || checks.Values.All(c => c.Status == CheckOk))
        {
            return ExitCodes.Ok;
        }

        return checks.Values.All(c => c.Status is CheckOk or CheckSignIn) ? ExitCodes.SignInRequired : ExitCodes.ServerUnavailable;
    }

    private const string CheckOk = "ok";
    private const string CheckSignIn = "signInRequired";

    private static CheckDto Check(CliContext context, ServerListResult result, int tools) => result switch
    {
        { Failure: { Code: HubErrorCode.SignInRequired } f } => new CheckDto(CheckSignIn, null, f.Code.ToString(), f.Message, context.Fix(result.ServerId, f)),
        { Failure: { } f } => new CheckDto("failed", null, f.Code.ToString(), f.Message, context.Fix(result.ServerId, f)),
        { Source: ListSource.Live } => new CheckDto(CheckOk, tools, null, null, null),
        _ => new CheckDto("notAnswered", tools, null, $"Server '{result.ServerId}' did not answer within its budgets; its tools are listed from {result.Source.ToString().ToLowerInvariant()}.", "try again, or raise the budgets with --timeout."),
    };

    private static void RenderDefinitions(CliContext context, List<DefinitionDto> definitions, bool all)
    {
        if (!all)
        {
            var hidden = definitions.Count(d => d.Role != nameof(DefinitionRole.Listed));
            if (hidden > 0)
            {
                context.Error.MarkupLineInterpolated($"[grey]{hidden} more definition(s) are shadowed, folded into an identical server or overridden; run 'mmcp servers --all' to see each and how to reach it.[/]");
            }

            return;
        }

        // The same objects as --json, so the two always name the same ids.
        context.Out.WriteLine();
        var table = new Table().Border(TableBorder.Rounded).AddColumn("DEFINED AS").AddColumn("FROM").AddColumn("ROLE").AddColumn("REACH");
        foreach (var d in definitions)
        {
            var role = d.Role switch
            {
                nameof(DefinitionRole.Listed) => "listed",
                nameof(DefinitionRole.Alternate) => $"shadowed by {d.DefinedId}",
                nameof(DefinitionRole.Duplicate) => $"same as {d.ServerId}",
                _ => "overridden",
            };
            table.AddRow(new Text(d.DefinedId), new Text(d.Provenance.Display), new Text(role), new Text(d.Reach));
        }

        context.Out.Write(table);
    }

    private static StatusDto Status(ServerStatus s) =>
        new(s.State.ToString(), s.ConsecutiveFailures, Dto.Failure(s.LastFailure), s.RetryAt, s.ProtocolVersion, s.ProcessId);

    private static void Render(CliContext context, List<(HubServerInfo Info, ServerStatus Status)> servers, Dictionary<string, CheckDto>? checks, IReadOnlyList<ManifestDiagnostic> diagnostics)
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
                    ? status.LastFailure?.Code == HubErrorCode.SignInRequired && status.State != ServerState.Connected ? "needs sign-in" : status.State.ToString()
                    : checks.GetValueOrDefault(info.Id) switch
                    {
                        { Status: CheckOk } c => $"[green]ok[/] ({c.ToolCount} tools)",
                        { Status: CheckSignIn } => "[yellow]sign-in required[/]",
                        { Code: { } code } => $"[red]{code}[/]",
                        { } c => $"[yellow]not answered[/] ({c.ToolCount} tools from cache)",
                        null => "[grey]not checked[/]",
                    };
                var from = Markup.Escape(info.Server.Provenance.ToString())
                    + (info.Server.ShadowedBy is { } by ? $"\n[yellow]shadowed by {Markup.Escape(by)} (the name '{Markup.Escape(by)}' is taken); reach this one as {Markup.Escape(info.Id)}[/]" : string.Empty)
                    + string.Concat(info.Server.Shadowed.Select(s => $"\n[grey]shadows {Markup.Escape(s.ToString())}[/]"))
                    + (info.Server.Aliases.Count > 0 ? $"\n[grey]also reached as {Markup.Escape(string.Join(", ", info.Server.Aliases))}[/]" : string.Empty);
                table.AddRow(
                    new Markup(Markup.Escape(info.Id)),
                    new Markup(Markup.Escape(info.Manifest.Name)),
                    new Markup($"{transport.Type}: {Markup.Escape(transport.Display ?? string.Empty)}{(info.Manifest.Launch is null ? string.Empty : " [grey](launch on demand)[/]")}"),
                    new Markup(checks is null ? Markup.Escape(state) : state),
                    new Markup(from));
            }

            context.Out.Write(table);
        }

        foreach (var (id, c) in checks ?? [])
        {
            if (c.Status == CheckSignIn)
            {
                context.Error.MarkupLineInterpolated($"[yellow]{id}: sign-in required: {c.Fix}[/] ({c.Message})");
            }
            else if (c.Status != CheckOk)
            {
                context.Error.MarkupLineInterpolated($"[red]{c.Code ?? "NotAnswered"}:[/] {c.Message}");
            }
        }

        foreach (var d in diagnostics)
        {
            var color = d.Severity == DiagnosticSeverity.Error ? "red" : "yellow";
            context.Error.MarkupLine($"[{color}]{Markup.Escape(d.ToString())}[/]");
        }
    }
}
