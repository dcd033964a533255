using System.CommandLine;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using Spectre.Console;

namespace Mmcp.Cli.Prompts;

/// <summary><c>mmcp prompts</c>: the prompts of every server.</summary>
internal static class PromptsCommand
{
    public static Command Create(GlobalOptions global)
    {
        var server = new Option<string?>("--server", "-s") { Description = "Only this server's prompts.", HelpName = "ID" };
        var progress = new Option<bool>("--progress") { Description = "Show on standard error which servers are still starting, also when standard error is not a terminal (on a terminal it is shown anyway)." };
        var strict = new Option<bool>("--strict") { Description = "Exit with 8 when any server failed (the list is incomplete); without it failures are warnings and the exit code is 0." };
        var command = new Command("prompts", "List the prompts of every server (or one), with their arguments. Get one with 'mmcp prompt SERVER NAME'.") { server, strict, progress };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RunAsync(context, parse.GetValue(server), parse.GetValue(strict), parse.GetValue(progress), token), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string? serverId, bool strict, bool progress, CancellationToken cancellationToken)
    {
        var listing = await ListingProgress.RunAsync(context, progress, serverId, ct => context.Hub.ListPromptsAsync(serverId, ct), cancellationToken).ConfigureAwait(false);
        if (context.Json)
        {
            CliContext.WriteJson(
                new PromptsOutput(
                    [.. listing.Prompts.Select(p => new PromptDto(p.ServerId, p.Prompt.Name, p.Prompt.Description, [.. (p.Prompt.Arguments ?? []).Select(a => new PromptArgumentDto(a.Name, a.Description, a.Required == true))]))],
                    [.. listing.Servers.Select(Dto.ServerList)])
                { Warnings = context.Warnings(listing) },
                CliJsonContext.Default.PromptsOutput);
        }
        else if (listing.Prompts.Count > 0)
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumn("PROMPT").AddColumn("SERVER").AddColumn("ARGUMENTS").AddColumn("DESCRIPTION");
            foreach (var p in listing.Prompts)
            {
                var args = string.Join(", ", (p.Prompt.Arguments ?? []).Select(a => a.Required == true ? a.Name : a.Name + "?"));
                table.AddRow(Markup.Escape(p.Prompt.Name), Markup.Escape(p.ServerId), Markup.Escape(args), Markup.Escape(p.Prompt.Description ?? string.Empty));
            }

            context.Out.Write(table);
        }

        return context.FinishListing(listing, serverId, listing.Prompts.Count, "prompts", strict);
    }
}
