using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;

namespace Atlas.Connect;

/// <summary>A slash command typed in the chat, parsed: its name (aliases resolved, lower case) and its arguments.</summary>
/// <param name="Name">The command, e.g. <c>/get</c>.</param>
/// <param name="First">The first argument, when given.</param>
/// <param name="Second">The second argument, when given.</param>
internal sealed record SlashCommand(string Name, string? First = null, string? Second = null);

/// <summary>The slash commands of the terminal chat, defined once with System.CommandLine: the parser and the
/// <c>/help</c> text come from the same definitions.</summary>
internal static class SlashCommands
{
    private const string Intro = "Type a message and press Enter; the answer streams in. Ctrl+C stops an answer; Ctrl+C twice (or /quit) exits.";

    // No response files: "/put @notes.txt" names a file to upload, not a file of arguments.
    private static readonly ParserConfiguration Configuration = new() { ResponseFileTokenReplacer = null };

    private static readonly Command Root = Build();

    /// <summary>The <c>/help</c> text: one line per command, usage and description.</summary>
    public static string Help { get; } = BuildHelp();

    /// <summary>Parses a line that starts with <c>/</c>.</summary>
    /// <param name="line">The line as typed (double quotes group words with spaces).</param>
    /// <param name="error">Why it is not a command, when it is not.</param>
    /// <returns>The command, or <see langword="null"/> for an unknown command or wrong arguments.</returns>
    public static SlashCommand? Parse(string line, out string? error)
    {
        var tokens = CommandLineParser.SplitCommandLine(line).ToList();
        if (tokens.Count == 0)
        {
            error = "empty command";
            return null;
        }

        tokens[0] = tokens[0].ToLowerInvariant();
        var result = Root.Parse(tokens, Configuration);
        var command = result.CommandResult.Command;
        if (result.Errors.Count > 0 || command == Root)
        {
            error = result.Errors.Count > 0 ? result.Errors[0].Message : "no command";
            return null;
        }

        error = null;
        var values = command.Arguments.Select(a => result.GetValue((Argument<string?>)a)).ToList();
        return new SlashCommand(command.Name, values.ElementAtOrDefault(0), values.ElementAtOrDefault(1));
    }

    private static Command Build()
    {
        var root = new Command("atlas-connect-chat");
        root.Subcommands.Add(Define("/new", "start a new conversation"));
        root.Subcommands.Add(Define("/list", "list conversations (the cached list when offline)"));
        root.Subcommands.Add(Define("/open", "continue conversation N of /list (or by id) and show its last messages", Required("N|ID")));
        root.Subcommands.Add(Define("/model", "show or set the model for your messages", Optional("NAME|default")));
        root.Subcommands.Add(Define("/models", "list the desktop's models"));
        root.Subcommands.Add(Define("/files", "list your files on the desktop", Optional("PATH")));
        root.Subcommands.Add(Define("/get", "download a file (LOCAL: a file or directory here; never overwrites)", Required("PATH"), Optional("LOCAL")));
        root.Subcommands.Add(Define("/put", "upload a file (never overwrites on the desktop)", Required("LOCAL"), Optional("PATH")));
        root.Subcommands.Add(Define("/ocr", "read the text in an image in your files", Required("PATH")));
        root.Subcommands.Add(Define("/media", "run a media task: ocr, analyze, frames, transcribe, describe, context", Required("TASK"), Required("PATH")));
        root.Subcommands.Add(Define("/status", "connection, permissions, LLM, outbox"));
        root.Subcommands.Add(Define("/help", "this help"));
        var quit = Define("/quit", "exit");
        quit.Aliases.Add("/exit");
        root.Subcommands.Add(quit);
        return root;
    }

    private static Command Define(string name, string description, params Argument<string?>[] arguments)
    {
        var command = new Command(name, description)
        {
            // Commands without arguments ignore extra words, as they always have ("/list all" lists).
            TreatUnmatchedTokensAsErrors = arguments.Length > 0,
        };
        foreach (var argument in arguments)
        {
            command.Arguments.Add(argument);
        }

        return command;
    }

    private static Argument<string?> Required(string helpName) =>
        new(helpName.ToLowerInvariant()) { HelpName = helpName, Arity = ArgumentArity.ExactlyOne };

    private static Argument<string?> Optional(string helpName) =>
        new(helpName.ToLowerInvariant()) { HelpName = helpName, Arity = ArgumentArity.ZeroOrOne };

    private static string BuildHelp()
    {
        var help = new StringBuilder(Intro);
        foreach (var command in Root.Subcommands)
        {
            var usage = string.Join(' ', command.Arguments.Select(a => a.Arity.MinimumNumberOfValues == 0 ? $"[{a.HelpName}]" : a.HelpName)
                .Prepend(command.Name));
            help.Append('\n').Append("  ").Append(usage.PadRight(22)).Append(command.Description);
        }

        return help.ToString();
    }
}
