using System.CommandLine;
using Mmcp.Client.Consent;
using Mmcp.Gateway;

namespace Mmcp.Cli.Serving;

/// <summary>
/// Where <c>mmcp serve</c> and <c>mmcp stdio</c> keep their state, and which consent policy they apply: the same files
/// <c>mmcp consent --file</c> and <c>mmcp token --file</c> manage, so a gateway with its own stores stays manageable.
/// </summary>
internal sealed class StoreOptions
{
    private const string TrustOnFirstUse = "trust-on-first-use";
    private const string AskFirst = "ask-first";

    public StoreOptions(bool tokens)
    {
        ConsentFile = new Option<string?>("--consent-file") { Description = "The consent store (default $XDG_CONFIG_HOME/mmcp/consent.json; manage it with mmcp consent --file).", HelpName = "PATH" };
        ConsentPolicy = new Option<string>("--consent-policy")
        {
            Description = $"{TrustOnFirstUse}: a tool seen for the first time is allowed and its definition pinned. {AskFirst}: nothing is exposed until allowed with mmcp consent allow.",
            DefaultValueFactory = _ => TrustOnFirstUse,
        };
        ConsentPolicy.AcceptOnlyFromAmong(TrustOnFirstUse, AskFirst);
        TokenFile = tokens ? new Option<string?>("--token-file") { Description = "The token store (default $XDG_CONFIG_HOME/mmcp/tokens.json; manage it with mmcp token --file).", HelpName = "PATH" } : null;
        AuditFile = new Option<string?>("--audit-file") { Description = "The audit log (default $XDG_STATE_HOME/mmcp/audit.jsonl).", HelpName = "PATH" };
    }

    public Option<string?> ConsentFile { get; }

    public Option<string> ConsentPolicy { get; }

    public Option<string?>? TokenFile { get; }

    public Option<string?> AuditFile { get; }

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(ConsentFile);
        command.Options.Add(ConsentPolicy);
        if (TokenFile is not null)
        {
            command.Options.Add(TokenFile);
        }

        command.Options.Add(AuditFile);
    }

    /// <summary>Reads the parsed values into settings that <see cref="StoreSettings.Apply"/> puts on the gateway's options.</summary>
    public StoreSettings Read(ParseResult parse) => new(
        FullPath(parse.GetValue(ConsentFile)),
        parse.GetValue(ConsentPolicy) == AskFirst ? Client.Consent.ConsentPolicy.AskFirst : Client.Consent.ConsentPolicy.TrustOnFirstUse,
        TokenFile is null ? null : FullPath(parse.GetValue(TokenFile)),
        FullPath(parse.GetValue(AuditFile)));

    private static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path);
}

/// <summary>The parsed store options.</summary>
internal sealed record StoreSettings(string? ConsentFile, ConsentPolicy ConsentPolicy, string? TokenFile, string? AuditFile)
{
    public void Apply(MmcpGatewayOptions options)
    {
        options.ConsentStorePath = ConsentFile ?? options.ConsentStorePath;
        options.ConsentPolicy = ConsentPolicy;
        options.TokenStorePath = TokenFile ?? options.TokenStorePath;
        options.AuditLogPath = AuditFile ?? options.AuditLogPath;
    }
}
