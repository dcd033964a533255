using System.CommandLine;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using ModelContextProtocol.Protocol;
using Spectre.Console;

namespace Mmcp.Cli.Resources;

/// <summary><c>mmcp read</c>: read one resource of one server.</summary>
internal static class ReadCommand
{
    public static Command Create(GlobalOptions global)
    {
        var server = new Argument<string>("server") { Description = "The server id." };
        var uri = new Argument<string>("uri") { Description = "The resource URI (as listed by 'mmcp resources', or matching one of its templates)." };
        var output = new Option<FileInfo?>("--out", "-o") { Description = "Write the (first) content to this file instead of printing it; binary content is decoded.", HelpName = "FILE" };
        var command = new Command("read", "Read a resource of a server and print its contents.") { server, uri, output };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RunAsync(context, parse.GetValue(server)!, parse.GetValue(uri)!, parse.GetValue(output), token), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string server, string uri, FileInfo? output, CancellationToken cancellationToken)
    {
        // Where the content would go is checked before the server is asked (reading may start it).
        if (output is not null && Directory.Exists(output.FullName))
        {
            return context.Fail("Usage", $"--out {output.FullName} is a folder; give a file path, for example {Path.Combine(output.FullName, "content.bin")}.", ExitCodes.Usage);
        }

        if (output?.Directory is { Exists: false } folder)
        {
            return context.Fail("Usage", $"--out {output.FullName}: the folder {folder.FullName} does not exist; create it first or give another path.", ExitCodes.Usage);
        }

        var result = await context.Hub.ReadResourceAsync(server, uri, cancellationToken).ConfigureAwait(false);
        if (output is not null)
        {
            var first = result.Contents.FirstOrDefault();
            byte[] bytes = first switch
            {
                TextResourceContents text => System.Text.Encoding.UTF8.GetBytes(text.Text),
                BlobResourceContents blob => blob.DecodedData.ToArray(),
                _ => [],
            };
            await File.WriteAllBytesAsync(output.FullName, bytes, cancellationToken).ConfigureAwait(false);
            context.Error.MarkupLineInterpolated($"[grey]wrote {bytes.Length} bytes to {output.FullName}[/]");
        }
        else if (context.Json)
        {
            CliContext.WriteResult(result);
        }
        else
        {
            foreach (var content in result.Contents)
            {
                ContentPrinter.PrintResource(context.Out, content);
            }
        }

        return ExitCodes.Ok;
    }
}
