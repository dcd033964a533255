using System.CommandLine;
using System.Text;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using Mmcp.Core.Registry;
using Mmcp.Core.Registry.Imports;
using Spectre.Console;

namespace Mmcp.Cli.Config;

/// <summary><c>mmcp config inputs set|list|unset</c>: values for VS Code inputs (<c>${input:ID}</c>), stored privately.</summary>
internal static class InputsCommand
{
    public static Command Create(GlobalOptions global)
    {
        var setId = new Argument<string>("id") { Description = "The input id, as in ${input:ID} (for example gh-token)." };
        var set = new Command("set", "Store the value of an input: asked for without echo when standard input is a terminal, read from standard input otherwise (one trailing newline is dropped). Stored in $XDG_CONFIG_HOME/mmcp/inputs.json (mode 0600, directory 0700); MMCP_INPUT_<ID> still wins when set.") { setId };
        set.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => SetAsync(context, parse.GetValue(setId)!, token), ct));

        var list = new Command("list", "List the inputs the VS Code configurations declare and the stored ones, with where each value comes from (environment, stored or none). Values are never shown.");
        list.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, _) => Task.FromResult(List(context)), ct));

        var unsetId = new Argument<string>("id") { Description = "The input id." };
        var unset = new Command("unset", "Remove the stored value of an input (exit code 3 when none is stored).") { unsetId };
        unset.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, _) => Task.FromResult(Unset(context, parse.GetValue(unsetId)!)), ct));

        return new Command("inputs", "Values for VS Code inputs (${input:ID}) that imported servers use when they start.") { set, list, unset };
    }

    private static async Task<int> SetAsync(CliContext context, string id, CancellationToken cancellationToken)
    {
        if (!InputStore.IsValidId(id))
        {
            return context.Fail("InvalidInput", $"'{id}' is not an input id: use 1 to 200 characters without control characters, as in ${{input:ID}}.", ExitCodes.Usage);
        }

        var declared = DeclaredInputs(context).Where(d => d.Id == id).ToList();
        string value;
        if (Console.IsInputRedirected)
        {
            value = await Console.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            value = value.EndsWith("\r\n", StringComparison.Ordinal) ? value[..^2] : value.EndsWith('\n') ? value[..^1] : value;
        }
        else
        {
            var prompt = declared.Select(d => d.Description).FirstOrDefault(d => d is not null);
            value = ReadWithoutEcho($"{(prompt is null ? string.Empty : prompt + " ")}Value for input '{id}' (not echoed): ", cancellationToken);
        }

        if (value.Length == 0)
        {
            return context.Fail("InvalidInput", $"The value for input '{id}' is empty; nothing was stored. To remove a stored value, run 'mmcp config inputs unset {id}'.", ExitCodes.Usage);
        }

        var store = InputStore.For(context.CreateRegistryOptions().Environment);
        store.Set(id, value);
        var variable = ClientConfigSource.InputVariable(id);
        var overridden = Environment.GetEnvironmentVariable(variable) is { Length: > 0 };
        if (context.Json)
        {
            CliContext.WriteJson(new InputSetOutput(id, store.Path, variable, overridden, [.. declared.Select(d => d.File).Distinct(StringComparer.Ordinal)]), CliJsonContext.Default.InputSetOutput);
        }
        else
        {
            context.Out.MarkupLineInterpolated($"Stored input '{id}' in {store.Path} (readable by you only). Servers that use ${{input:{id}}} get it when they start.");
        }

        if (overridden)
        {
            context.Warn($"the environment variable {variable} is set and wins over the stored value.");
        }

        if (declared.Count == 0)
        {
            context.Warn($"no VS Code configuration found from here declares input '{id}'; check the id (run 'mmcp config inputs list').");
        }

        return ExitCodes.Ok;
    }

    private static int List(CliContext context)
    {
        var environment = context.CreateRegistryOptions().Environment;
        var store = InputStore.For(environment);
        var stored = store.Read();
        var declared = DeclaredInputs(context);
        var ids = declared.Select(d => d.Id).Concat(stored.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var rows = ids.Select(id =>
        {
            var variable = ClientConfigSource.InputVariable(id);
            var from = environment.Get(variable) is not null ? "environment" : stored.ContainsKey(id) ? "stored" : "none";
            var mine = declared.Where(d => d.Id == id).ToList();
            return new InputDto(id, [.. mine.Select(d => d.File).Distinct(StringComparer.Ordinal)], mine.Any(d => d.Password), from, variable);
        }).ToList();
        if (context.Json)
        {
            CliContext.WriteJson(new InputsOutput(store.Path, rows), CliJsonContext.Default.InputsOutput);
            return ExitCodes.Ok;
        }

        if (rows.Count == 0)
        {
            context.Out.MarkupLine("No inputs are declared or stored.");
            return ExitCodes.Ok;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumn("INPUT").AddColumn("VALUE FROM").AddColumn("DECLARED IN");
        foreach (var row in rows)
        {
            var from = row.ValueFrom switch
            {
                "environment" => $"environment ({row.Variable})",
                "stored" => $"stored ({store.Path})",
                _ => $"[red]none[/]: run 'mmcp config inputs set {Markup.Escape(row.Id)}'",
            };
            table.AddRow(new Markup(Markup.Escape(row.Id) + (row.Password ? " [grey](password)[/]" : string.Empty)), new Markup(row.ValueFrom == "none" ? from : Markup.Escape(from)), new Text(row.DeclaredIn.Count == 0 ? "(not declared)" : string.Join('\n', row.DeclaredIn)));
        }

        context.Out.Write(table);
        return ExitCodes.Ok;
    }

    private static int Unset(CliContext context, string id)
    {
        var store = InputStore.For(context.CreateRegistryOptions().Environment);
        if (!store.Remove(id))
        {
            return context.Fail("NotFound", $"No value is stored for input '{id}' (in {store.Path}). Run 'mmcp config inputs list' to see the stored ones.", ExitCodes.NotFound);
        }

        if (context.Json)
        {
            CliContext.WriteJson(new InputUnsetOutput(id, store.Path, true), CliJsonContext.Default.InputUnsetOutput);
        }
        else
        {
            context.Out.MarkupLineInterpolated($"Removed the stored value of input '{id}'.");
        }

        return ExitCodes.Ok;
    }

    private static List<DeclaredInput> DeclaredInputs(CliContext context)
    {
        var options = context.CreateRegistryOptions();
        options.ImportClientConfigs = true;
        return [.. options.CreateSources().OfType<ClientConfigSource>().SelectMany(s => s.ReadDeclaredInputs())];
    }

    /// <summary>Reads a line from the terminal without echoing it (the value may be a password).</summary>
    private static string ReadWithoutEcho(string prompt, CancellationToken cancellationToken)
    {
        Console.Error.Write(prompt);
        var value = new StringBuilder();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (value.Length > 0)
                {
                    value.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                value.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return value.ToString();
    }
}
