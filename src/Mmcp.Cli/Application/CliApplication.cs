using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Mmcp.Cli.Auth;
using Mmcp.Cli.Calls;
using Mmcp.Cli.Config;
using Mmcp.Cli.Consent;
using Mmcp.Cli.Inspect;
using Mmcp.Cli.Install;
using Mmcp.Cli.Manifests;
using Mmcp.Cli.Prompts;
using Mmcp.Cli.Resources;
using Mmcp.Cli.Servers;
using Mmcp.Cli.Serving;
using Mmcp.Cli.Tokens;
using Mmcp.Cli.Tools;

namespace Mmcp.Cli.Application;

/// <summary>
/// The <c>mmcp</c> command line. Each feature folder contributes its commands; later ones (<c>serve</c>, <c>stdio</c>,
/// <c>install</c>, <c>consent</c>, <c>token</c>, <c>inspect</c>) plug in the same way.
/// </summary>
internal static class CliApplication
{
    public static RootCommand Build()
    {
        var global = new GlobalOptions();
        var root = new RootCommand(
            "mmcp — list, call, read and validate the MCP servers this computer's hub discovers (manifests in the registry directories, plus the servers of Claude Desktop, VS Code and Cursor).\n"
            + "Exit codes: 0 ok, 1 error, 2 usage (command line or tool arguments), 3 unknown server/tool/resource/prompt, 4 the tool reported an error, 5 timeout, 6 invalid manifest, 7 server could not be started or reached (or crashed), 8 a listing is incomplete (--strict), 9 a remote server needs you to sign in (mmcp auth login), 130 interrupted.");
        global.AddTo(root);
        root.Subcommands.Add(ServersCommand.Create(global));
        root.Subcommands.Add(ToolsCommand.Create(global));
        root.Subcommands.Add(CallCommand.Create(global));
        root.Subcommands.Add(ResourcesCommand.Create(global));
        root.Subcommands.Add(ReadCommand.Create(global));
        root.Subcommands.Add(PromptsCommand.Create(global));
        root.Subcommands.Add(PromptCommand.Create(global));
        root.Subcommands.Add(ManifestCommand.Create(global));
        root.Subcommands.Add(ConfigCommand.Create(global));
        root.Subcommands.Add(InstallCommands.CreateInstall(global));
        root.Subcommands.Add(InstallCommands.CreateUninstall(global));
        root.Subcommands.Add(ServeCommand.Create(global));
        root.Subcommands.Add(StdioCommand.Create(global));
        root.Subcommands.Add(TokenCommand.Create(global));
        root.Subcommands.Add(ConsentCommand.Create(global));
        root.Subcommands.Add(Remote.RemoteCommand.Create(global));
        root.Subcommands.Add(InspectCommand.Create(global));
        root.Subcommands.Add(AuthCommand.Create(global));
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var root = Build();
        // '@FILE' means "arguments from a file" to mmcp (--args @args.json), not a response file of the parser.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"mmcp: {error.Message}").ConfigureAwait(false);
            }

            // The whole path of the command ('mmcp token create', not 'mmcp create').
            var names = new List<string>();
            for (SymbolResult? at = parse.CommandResult; at is CommandResult { Command: not RootCommand } level; at = at.Parent)
            {
                names.Insert(0, level.Command.Name);
            }

            var command = string.Join(' ', ["mmcp", .. names]);
            await Console.Error.WriteLineAsync($"Run '{command} --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        if (args.Length == 0)
        {
            return await root.Parse(["--help"]).InvokeAsync().ConfigureAwait(false);
        }

        return await parse.InvokeAsync().ConfigureAwait(false);
    }
}
