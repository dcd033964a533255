using System.CommandLine;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using Mmcp.Client;
using Spectre.Console;

namespace Mmcp.Cli.Tools;

/// <summary><c>mmcp tools</c>: the aggregated tool list.</summary>
internal static class ToolsCommand
{
    public static Command Create(GlobalOptions global)
    {
        var server = new Option<string?>("--server", "-s") { Description = "Only this server's tools.", HelpName = "ID" };
        var progress = new Option<bool>("--progress") { Description = "Show on standard error which servers are still starting, also when standard error is not a terminal (on a terminal it is shown anyway)." };
        var strict = new Option<bool>("--strict") { Description = "Exit with 8 when any server failed (the list is incomplete); without it failures are warnings and the exit code is 0." };
        var command = new Command("tools", "List the tools of every server (or one) under their aggregated names <server>__<tool>. Servers that are still starting are listed from their cached or manifest tool list; servers that fail are reported as warnings.") { server, strict, progress };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RunAsync(context, parse.GetValue(server), parse.GetValue(strict), parse.GetValue(progress), token), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string? serverId, bool strict, bool progress, CancellationToken cancellationToken)
    {
        var listing = await ListingProgress.RunAsync(context, progress, serverId, ct => context.Hub.ListToolsAsync(serverId, ct), cancellationToken).ConfigureAwait(false);
        if (context.Json)
        {
            CliContext.WriteJson(
                new ToolsOutput(
                    [.. listing.Tools.Select(t => new ToolDto(t.Name, t.ServerId, t.ToolName, t.Tool.Title, t.Tool.Description, t.Tool.InputSchema, t.Source.ToString()))],
                    [.. listing.Servers.Select(Dto.ServerList)])
                { Warnings = context.Warnings(listing) },
                CliJsonContext.Default.ToolsOutput);
        }
        else if (listing.Tools.Count > 0)
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumn("TOOL").AddColumn("SERVER").AddColumn("DESCRIPTION");
            foreach (var tool in listing.Tools)
            {
                var source = tool.Source == ListSource.Live ? string.Empty : $" [grey]({tool.Source.ToString().ToLowerInvariant()})[/]";
                table.AddRow(new Markup(Markup.Escape(tool.Name) + source), new Markup(Markup.Escape(tool.ServerId)), new Markup(Markup.Escape(FirstLine(tool.Tool.Description ?? tool.Tool.Title ?? string.Empty))));
            }

            context.Out.Write(table);
        }

        return context.FinishListing(listing, serverId, listing.Tools.Count, "tools", strict);
    }

    private static string FirstLine(string text)
    {
        var line = text.AsSpan().Trim();
        var end = line.IndexOfAny('\n', '\r');
        var first = end < 0 ? line : line[..end];
        return first.Length > 160 ? string.Concat(first[..157], "...") : first.ToString();
    }
}
