using System.CommandLine;
using System.Globalization;

namespace Mmcp.Cli.Application;

/// <summary>Options every command accepts.</summary>
internal sealed class GlobalOptions
{
    public Option<bool> Json { get; } = new("--json") { Description = "Write machine-readable JSON to standard output.", Recursive = true };

    public Option<string[]> Registry { get; } = new("--registry")
    {
        Description = "A registry directory to read manifests from (repeatable). Replaces MMCP_REGISTRY_PATH and the XDG defaults.",
        HelpName = "DIR",
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<bool> NoImport { get; } = new("--no-import") { Description = "Do not import the servers of Claude Desktop, VS Code and Cursor configurations.", Recursive = true };

    public Option<double?> Timeout { get; } = new("--timeout")
    {
        Description = "Seconds a request may take (overrides the default call budget of 60 s; a manifest's own 'timeouts' still win).",
        HelpName = "SECONDS",
        Recursive = true,
        CustomParser = r =>
        {
            var text = r.Tokens.Single().Value;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && seconds <= 86_400)
            {
                return seconds;
            }

            r.AddError($"--timeout expects a number of seconds above 0 (up to 86400), not '{text}'.");
            return null;
        },
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v") { Description = "Log what the hub does to standard error.", Recursive = true };

    public void AddTo(RootCommand root)
    {
        root.Options.Add(Json);
        root.Options.Add(Registry);
        root.Options.Add(NoImport);
        root.Options.Add(Timeout);
        root.Options.Add(Verbose);
    }
}
