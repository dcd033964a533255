using System.CommandLine;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using ModelContextProtocol;
using Spectre.Console;

namespace Mmcp.Cli.Calls;

/// <summary><c>mmcp call</c>: call one tool and print its result.</summary>
internal static class CallCommand
{
    public static Command Create(GlobalOptions global)
    {
        var server = new Argument<string>("server") { Description = "The server id, or the tool's aggregated name <server>__<tool> (then leave TOOL out)." };
        var tool = new Argument<string?>("tool") { Description = "The tool's own name on that server.", Arity = ArgumentArity.ZeroOrOne };
        var args = new Option<string?>("--args", "-a") { Description = "The arguments: a JSON object, @FILE to read it from a file, or - for standard input.", HelpName = "JSON" };
        var progress = new Option<bool>("--progress") { Description = "Print the tool's progress notifications to standard error." };
        var command = new Command("call", "Call a tool and print its result. Exits with 4 when the tool reports an error.") { server, tool, args, progress };
        command.SetAction((parse, ct) => CliContext.RunAsync(
            parse,
            global,
            (context, token) => RunAsync(context, parse.GetValue(server)!, parse.GetValue(tool), parse.GetValue(args), parse.GetValue(progress), token),
            ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string server, string? tool, string? argsText, bool showProgress, CancellationToken cancellationToken)
    {
        if (!ArgumentsJson.TryParse(argsText, out var arguments, out var error))
        {
            return context.Fail("Usage", error!, ExitCodes.Usage);
        }

        IProgress<ProgressNotificationValue>? progress = showProgress ? new ConsoleProgress(context.Error) : null;
        var result = tool is null
            ? await context.Hub.CallToolAsync(server, arguments, progress, cancellationToken).ConfigureAwait(false)
            : await context.Hub.CallToolAsync(server, tool, arguments, progress, cancellationToken).ConfigureAwait(false);

        if (context.Json)
        {
            CliContext.WriteResult(result);
        }
        else
        {
            var target = result.IsError == true ? context.Error : context.Out;
            if (result.IsError == true)
            {
                target.MarkupLine("[red]The tool reported an error:[/]");
            }

            ContentPrinter.Print(target, result.Content, result.StructuredContent);
        }

        return result.IsError == true ? ExitCodes.ToolError : ExitCodes.Ok;
    }

    private sealed class ConsoleProgress(IAnsiConsole console) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value)
        {
            var total = value.Total is { } t ? $"/{t}" : string.Empty;
            var message = string.IsNullOrEmpty(value.Message) ? string.Empty : " " + value.Message;
            console.MarkupLineInterpolated($"[grey]progress {value.Progress}{total}{message}[/]");
        }
    }
}
