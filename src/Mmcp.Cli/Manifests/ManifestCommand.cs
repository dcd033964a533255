using System.CommandLine;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using Mmcp.Core.Manifests;
using Spectre.Console;

namespace Mmcp.Cli.Manifests;

/// <summary><c>mmcp manifest validate</c>: check manifest files against the schema and the rules.</summary>
internal static class ManifestCommand
{
    public static Command Create(GlobalOptions global)
    {
        var files = new Argument<string[]>("files") { Description = "Manifest files to check.", Arity = ArgumentArity.OneOrMore };
        var validate = new Command("validate", "Check manifest files; every problem is reported with file, line, field and how to fix it. Exits with 6 when a file is invalid.") { files };
        validate.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, _) => Task.FromResult(Validate(context, parse.GetValue(files)!)), ct));
        var schema = new Command("schema", "Print the manifest JSON Schema.");
        schema.SetAction(_ =>
        {
            Console.Out.WriteLine(ManifestSchema.GetJson());
            return ExitCodes.Ok;
        });
        return new Command("manifest", "Work with server manifests.") { validate, schema };
    }

    private static int Validate(CliContext context, string[] files)
    {
        var results = files.Select(f => (File: f, Result: ManifestReader.ReadFile(Path.GetFullPath(f)))).ToList();
        if (context.Json)
        {
            CliContext.WriteJson(
                new ValidateOutput([.. results.Select(r => new ValidatedFileDto(r.File, r.Result.IsValid, r.Result.Manifest?.Id, [.. r.Result.Diagnostics.Select(Dto.Diagnostic)]))]),
                CliJsonContext.Default.ValidateOutput);
        }
        else
        {
            foreach (var (file, result) in results)
            {
                if (result.IsValid)
                {
                    var m = result.Manifest!;
                    context.Out.MarkupLineInterpolated($"[green]ok[/] {file}: {m.Id} {m.Version} ({m.Transport.Type}{(m.Capabilities is { } c ? $", {c.Tools.Count} tools in its snapshot" : string.Empty)})");
                }
                else
                {
                    context.Out.MarkupLineInterpolated($"[red]invalid[/] {file}");
                }

                foreach (var d in result.Diagnostics)
                {
                    var color = d.Severity == DiagnosticSeverity.Error ? "red" : "yellow";
                    context.Out.MarkupLine($"  [{color}]{Markup.Escape(d.ToString())}[/]");
                }
            }
        }

        return results.All(r => r.Result.IsValid) ? ExitCodes.Ok : ExitCodes.InvalidManifest;
    }
}
