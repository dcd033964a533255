using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Mmcp.Cli.Application;
using Mmcp.Client;
using Mmcp.Client.Consent;
using ModelContextProtocol.Protocol;
using Spectre.Console;

namespace Mmcp.Cli.Consent;

/// <summary><c>mmcp consent list|allow|deny|reset</c>: the user's decisions per server and per tool, with definition pins.</summary>
internal static class ConsentCommand
{
    public static Command Create(GlobalOptions global)
    {
        var file = new Option<string?>("--file") { Description = "The consent store (default $XDG_CONFIG_HOME/mmcp/consent.json).", HelpName = "PATH", Recursive = true };
        var server = new Argument<string>("server") { Description = "The server id." };
        var tool = new Argument<string?>("tool") { Description = "One tool's own name (leave out for the whole server).", Arity = ArgumentArity.ZeroOrOne };

        var listServer = new Option<string?>("--server", "-s") { Description = "Only this server.", HelpName = "ID" };
        var list = new Command("list", "Show every tool with its consent status (allowed, changed since approved, denied, pending) and the recorded decisions.") { listServer };
        list.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => ListAsync(context, Store(parse.GetValue(file)), parse.GetValue(listServer), token), ct));

        var allow = new Command("allow", "Allow a server, or a tool with its current definition pinned (also how a changed tool is approved again).") { server, tool };
        allow.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => DecideAsync(context, Store(parse.GetValue(file)), parse.GetValue(server)!, parse.GetValue(tool), ConsentDecision.Allow, token), ct));

        var deny = new Command("deny", "Deny a server or a tool: hidden from lists, calls refused.") { server, tool };
        deny.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => DecideAsync(context, Store(parse.GetValue(file)), parse.GetValue(server)!, parse.GetValue(tool), ConsentDecision.Deny, token), ct));

        var reset = new Command("reset", "Forget the decisions about a server (and its tools) or one tool; the default policy applies again.") { server, tool };
        reset.SetAction((parse, ct) => CliContext.RunAsync(parse, global, async (context, token) =>
        {
            var removed = await Store(parse.GetValue(file)).ResetAsync(parse.GetValue(server)!, parse.GetValue(tool), token).ConfigureAwait(false);
            if (!context.Json)
            {
                context.Out.MarkupLine(removed ? "Forgotten." : "There was no decision to forget.");
            }
            else
            {
                CliContext.WriteJson(new JsonObject { ["reset"] = removed });
            }

            return ExitCodes.Ok;
        }, ct));

        return new Command("consent", "Decide which servers and tools the gateway exposes. Each approved tool's definition is pinned by hash; a changed definition is held until approved again. Default policy: trust on first use.") { file, list, allow, deny, reset };
    }

    private static ConsentStore Store(string? file) => new(file ?? ConsentStore.DefaultPath());

    private static async Task<int> ListAsync(CliContext context, ConsentStore store, string? serverId, CancellationToken cancellationToken)
    {
        var listing = await context.Hub.ListToolsAsync(serverId, cancellationToken).ConfigureAwait(false);
        var (servers, tools) = store.List();
        var rows = listing.Tools.Select(t => (t.ServerId, Tool: t.ToolName, Verdict: store.Check(t.ServerId, t.Tool))).ToList();
        if (context.Json)
        {
            CliContext.WriteJson(new JsonObject
            {
                ["tools"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject { ["server"] = r.ServerId, ["tool"] = r.Tool, ["status"] = r.Verdict.Status.ToString(), ["message"] = r.Verdict.Message })]),
                ["servers"] = new JsonArray([.. servers.Where(s => serverId is null || s.ServerId == serverId).Select(s => (JsonNode)new JsonObject { ["server"] = s.ServerId, ["decision"] = s.Decision.ToString(), ["at"] = s.DecidedAt.ToString("O", CultureInfo.InvariantCulture) })]),
                ["decisions"] = new JsonArray([.. tools.Where(t => serverId is null || t.ServerId == serverId).Select(t => (JsonNode)new JsonObject { ["server"] = t.ServerId, ["tool"] = t.ToolName, ["decision"] = t.Decision.ToString(), ["hash"] = t.PinnedHash, ["by"] = t.DecidedBy, ["at"] = t.DecidedAt.ToString("O", CultureInfo.InvariantCulture) })]),
                ["policy"] = store.Policy.ToString(),
            });
            return ExitCodes.Ok;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumn("SERVER").AddColumn("TOOL").AddColumn("STATUS").AddColumn("PINNED");
        foreach (var (sid, name, verdict) in rows)
        {
            var entry = tools.FirstOrDefault(t => t.ServerId == sid && t.ToolName == name);
            var status = verdict.Status switch
            {
                ToolConsentStatus.Allowed => entry is null ? "[green]allowed[/] [grey](pinned on first use)[/]" : "[green]allowed[/]",
                ToolConsentStatus.Changed => "[yellow]changed: held[/]",
                ToolConsentStatus.Denied => "[red]denied[/]",
                _ => "[yellow]pending[/]",
            };
            table.AddRow(new Markup(Markup.Escape(sid)), new Markup(Markup.Escape(name)), new Markup(status), new Markup(Markup.Escape(entry?.PinnedHash is { } h ? $"{h[..Math.Min(h.Length, 19)]}… by {entry.DecidedBy}" : string.Empty)));
        }

        context.Out.Write(table);
        foreach (var s in servers.Where(s => serverId is null || s.ServerId == serverId))
        {
            context.Out.MarkupLineInterpolated($"Server {s.ServerId}: {s.Decision.ToString().ToLowerInvariant()} ({s.DecidedAt.ToString("u", CultureInfo.InvariantCulture)})");
        }

        context.Out.MarkupLineInterpolated($"[grey]Policy: {store.Policy}. Store: {store.Path}[/]");
        return context.FinishListing(listing, serverId, rows.Count, "tools");
    }

    private static async Task<int> DecideAsync(CliContext context, ConsentStore store, string serverId, string? toolName, ConsentDecision decision, CancellationToken cancellationToken)
    {
        if (toolName is null)
        {
            // A decision about an id no server has would never apply: a typo that leaves the meant server as it was.
            var hub = context.Hub;
            await hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false);
            if (!hub.Registry.Current.Servers.Any(s => s.Id == serverId))
            {
                var known = hub.Registry.Current.Servers.Select(s => s.Id).Order(StringComparer.Ordinal).ToList();
                return context.Fail(HubErrorCode.UnknownServer.ToString(),
                    $"No server is registered as '{serverId}'. {(known.Count == 0 ? "No server is registered; see 'mmcp servers'." : $"Registered: {string.Join(", ", known)}.")}", ExitCodes.NotFound);
            }

            await store.SetServerAsync(serverId, decision, cancellationToken).ConfigureAwait(false);
            Report($"Server '{serverId}' {(decision == ConsentDecision.Allow ? "allowed" : "denied")}.");
            return ExitCodes.Ok;
        }

        // Both decisions look the tool up: allowing pins its definition, and a denial of a name the server does not have
        // (a typo) would leave the meant tool allowed.
        Tool? definition = null;
        try
        {
            var listing = await context.Hub.ListToolsAsync(serverId, cancellationToken).ConfigureAwait(false);
            definition = listing.Tools.FirstOrDefault(t => t.ToolName == toolName)?.Tool;
            if (definition is null && listing.Failures.Count == 0)
            {
                return context.Fail(HubErrorCode.UnknownTool.ToString(), $"Server '{serverId}' has no tool '{toolName}'. Its tools: {string.Join(", ", listing.Tools.Select(t => t.ToolName))}.", ExitCodes.NotFound);
            }
        }
        catch (HubException ex) when (ex.Code != HubErrorCode.UnknownServer)
        {
            context.Warn(decision == ConsentDecision.Allow
                ? $"{ex.Message} The tool is allowed and will be pinned as the gateway next sees it."
                : $"{ex.Message} The tool is denied as named; check the name with 'mmcp consent list --server {serverId}' once the server answers.");
        }

        if (decision == ConsentDecision.Deny)
        {
            definition = null; // a denial pins nothing
        }

        await store.SetToolAsync(serverId, toolName, decision, definition, cancellationToken).ConfigureAwait(false);
        Report(decision == ConsentDecision.Allow
            ? $"Tool '{toolName}' of '{serverId}' allowed{(definition is null ? string.Empty : $" with its current definition pinned ({ConsentStore.ComputeHash(definition)[..19]}…)")}."
            : $"Tool '{toolName}' of '{serverId}' denied.");
        return ExitCodes.Ok;

        void Report(string message)
        {
            if (context.Json)
            {
                CliContext.WriteJson(new JsonObject { ["server"] = serverId, ["tool"] = toolName, ["decision"] = decision.ToString(), ["message"] = message });
            }
            else
            {
                context.Out.MarkupLineInterpolated($"{message}");
            }
        }
    }
}
