using System.CommandLine;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using Spectre.Console;

namespace Mmcp.Cli.Prompts;

/// <summary><c>mmcp prompt</c>: get one prompt with its arguments filled in.</summary>
internal static class PromptCommand
{
    public static Command Create(GlobalOptions global)
    {
        var server = new Argument<string>("server") { Description = "The server id." };
        var name = new Argument<string>("name") { Description = "The prompt name." };
        var args = new Option<string?>("--args", "-a") { Description = "The prompt arguments: a JSON object, @FILE, or - for standard input.", HelpName = "JSON" };
        var command = new Command("prompt", "Get a prompt of a server with its arguments filled in, and print its messages.") { server, name, args };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RunAsync(context, parse.GetValue(server)!, parse.GetValue(name)!, parse.GetValue(args), token), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string server, string name, string? argsText, CancellationToken cancellationToken)
    {
        if (!ArgumentsJson.TryParse(argsText, out var arguments, out var error))
        {
            return context.Fail("Usage", error!, ExitCodes.Usage);
        }

        var result = await context.Hub.GetPromptAsync(server, name, arguments, cancellationToken).ConfigureAwait(false);
        if (context.Json)
        {
            CliContext.WriteResult(result);
            return ExitCodes.Ok;
        }

        foreach (var message in result.Messages)
        {
            context.Out.MarkupLineInterpolated($"[bold]{message.Role.ToString().ToLowerInvariant()}:[/]");
            ContentPrinter.Print(context.Out, [message.Content], null);
        }

        return ExitCodes.Ok;
    }
}
