using System.CommandLine;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using Spectre.Console;

namespace Mmcp.Cli.Resources;

/// <summary><c>mmcp resources</c>: the resources and resource templates of every server.</summary>
internal static class ResourcesCommand
{
    public static Command Create(GlobalOptions global)
    {
        var server = new Option<string?>("--server", "-s") { Description = "Only this server's resources.", HelpName = "ID" };
        var progress = new Option<bool>("--progress") { Description = "Show on standard error which servers are still starting, also when standard error is not a terminal (on a terminal it is shown anyway)." };
        var strict = new Option<bool>("--strict") { Description = "Exit with 8 when any server failed (the list is incomplete); without it failures are warnings and the exit code is 0." };
        var command = new Command("resources", "List the resources and resource templates of every server (or one). Read one with 'mmcp read SERVER URI'.") { server, strict, progress };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RunAsync(context, parse.GetValue(server), parse.GetValue(strict), parse.GetValue(progress), token), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string? serverId, bool strict, bool progress, CancellationToken cancellationToken)
    {
        var listing = await ListingProgress.RunAsync(context, progress, serverId, ct => context.Hub.ListResourcesAsync(serverId, ct), cancellationToken).ConfigureAwait(false);
        if (context.Json)
        {
            CliContext.WriteJson(
                new ResourcesOutput(
                    [.. listing.Resources.Select(r => new ResourceDto(r.ServerId, r.Resource.Uri, r.Resource.Name, r.Resource.Description, r.Resource.MimeType))],
                    [.. listing.Templates.Select(t => new ResourceTemplateDto(t.ServerId, t.Template.UriTemplate, t.Template.Name, t.Template.Description, t.Template.MimeType))],
                    [.. listing.Servers.Select(Dto.ServerList)])
                { Warnings = context.Warnings(listing) },
                CliJsonContext.Default.ResourcesOutput);
        }
        else
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumn("URI").AddColumn("SERVER").AddColumn("NAME").AddColumn("TYPE");
            foreach (var r in listing.Resources)
            {
                table.AddRow(Markup.Escape(r.Resource.Uri), Markup.Escape(r.ServerId), Markup.Escape(r.Resource.Name), Markup.Escape(r.Resource.MimeType ?? string.Empty));
            }

            foreach (var t in listing.Templates)
            {
                table.AddRow(Markup.Escape(t.Template.UriTemplate) + " [grey](template)[/]", Markup.Escape(t.ServerId), Markup.Escape(t.Template.Name), Markup.Escape(t.Template.MimeType ?? string.Empty));
            }

            if (table.Rows.Count > 0)
            {
                context.Out.Write(table);
            }
        }

        return context.FinishListing(listing, serverId, listing.Resources.Count + listing.Templates.Count, "resources", strict);
    }
}
