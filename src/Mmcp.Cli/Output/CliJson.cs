using System.Text.Json;
using System.Text.Json.Serialization;
using Mmcp.Client;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Cli.Output;

/// <summary>The shapes <c>mmcp --json</c> writes. Names are part of the CLI's contract (see docs/mmcp-cli.md).</summary>
internal sealed record TransportDto(string Type)
{
    public string? Path { get; init; }

    public string? Command { get; init; }

    public IReadOnlyList<string>? Args { get; init; }

    public string? Cwd { get; init; }

    public IReadOnlyDictionary<string, string>? Env { get; init; }

    public string? Url { get; init; }

    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    public bool? LegacySse { get; init; }

    /// <summary>Gets the full command line (stdio) or URL, as a user would type it.</summary>
    public string? Display { get; init; }
}

internal sealed record ProvenanceDto(string Kind, string Location, string? Key, string Display);

internal sealed record FailureDto(string Code, string Message, int? ExitCode, IReadOnlyList<string> StandardErrorTail, int? HttpStatusCode);

internal sealed record StatusDto(string State, int ConsecutiveFailures, FailureDto? LastFailure, DateTimeOffset? RetryAt, string? ProtocolVersion, int? ProcessId);

internal sealed record ServerDto(
    string Id,
    string Name,
    string Description,
    string Version,
    TransportDto Transport,
    bool CanLaunch,
    string? ProtocolVersion,
    IReadOnlyList<string> Categories,
    IReadOnlyList<string> Permissions,
    ProvenanceDto Provenance,
    IReadOnlyList<ProvenanceDto> Shadowed,
    StatusDto Status)
{
    public int? ToolCount { get; init; }

    /// <summary>Gets the outcome of <c>--check</c> for this server, or <see langword="null"/> without it.</summary>
    public CheckDto? Check { get; init; }

    /// <summary>Gets the id this definition was written with when a definition of higher precedence has it (this one is listed under a suffixed id).</summary>
    public string? ShadowedBy { get; init; }

    /// <summary>Gets the other ids that reach this server.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>Gets the identical definitions folded into this server.</summary>
    public IReadOnlyList<ProvenanceDto> Duplicates { get; init; } = [];
}

/// <summary>What <c>servers --check</c> found: <c>ok</c> (answered live), <c>signInRequired</c>, <c>failed</c>, or <c>notAnswered</c> (only a cached list in time).</summary>
internal sealed record CheckDto(string Status, int? ToolCount, string? Code, string? Message, string? Fix);

/// <summary>One definition that discovery found (<c>servers --all</c>).</summary>
/// <param name="DefinedId">The id it was written with.</param>
/// <param name="Provenance">Where it was found.</param>
/// <param name="Role">What became of it: <c>Listed</c>, <c>Alternate</c> (shadowed), <c>Duplicate</c> or <c>Overridden</c>.</param>
/// <param name="ServerId">The server that serves it, or <see langword="null"/> when it is overridden.</param>
/// <param name="StableId">Its stable suffixed id (<c>&lt;id&gt;.&lt;source&gt;</c>), for an entry of a client configuration.</param>
/// <param name="ReachedAs">The ids that reach this definition now, its server's id first (empty when it is overridden); <paramref name="Reach"/> names exactly these.</param>
/// <param name="Reach">How to reach it, in words.</param>
internal sealed record DefinitionDto(string DefinedId, ProvenanceDto Provenance, string Role, string? ServerId, string? StableId, IReadOnlyList<string> ReachedAs, string Reach);

internal sealed record DiagnosticDto(string File, string Field, string Message, string Severity, long? Line);

internal sealed record ServersOutput(IReadOnlyList<ServerDto> Servers, IReadOnlyList<DiagnosticDto> Diagnostics)
{
    /// <summary>Gets every definition found and what became of it (with <c>--all</c>).</summary>
    public IReadOnlyList<DefinitionDto>? Definitions { get; init; }
}

internal sealed record ServerListDto(string Id, string Source, FailureDto? Error);

internal sealed record ToolDto(string Name, string Server, string Tool, string? Title, string? Description, JsonElement InputSchema, string Source);

internal sealed record ToolsOutput(IReadOnlyList<ToolDto> Tools, IReadOnlyList<ServerListDto> Servers)
{
    public IReadOnlyList<WarningDto> Warnings { get; init; } = [];
}

/// <summary>A server whose live list is missing: which, what failed, and how to fix it.</summary>
internal sealed record WarningDto(string Server, string Code, string Message, string Fix);

internal sealed record ResourceDto(string Server, string Uri, string Name, string? Description, string? MimeType);

internal sealed record ResourceTemplateDto(string Server, string UriTemplate, string Name, string? Description, string? MimeType);

internal sealed record ResourcesOutput(IReadOnlyList<ResourceDto> Resources, IReadOnlyList<ResourceTemplateDto> Templates, IReadOnlyList<ServerListDto> Servers)
{
    public IReadOnlyList<WarningDto> Warnings { get; init; } = [];
}

internal sealed record PromptArgumentDto(string Name, string? Description, bool Required);

internal sealed record PromptDto(string Server, string Name, string? Description, IReadOnlyList<PromptArgumentDto> Arguments);

internal sealed record PromptsOutput(IReadOnlyList<PromptDto> Prompts, IReadOnlyList<ServerListDto> Servers)
{
    public IReadOnlyList<WarningDto> Warnings { get; init; } = [];
}

internal sealed record ErrorDto(string Code, string Message, int ExitCode, string? ServerId, string? Target, FailureDto? Failure);

internal sealed record ErrorOutput(ErrorDto Error);

internal sealed record ValidatedFileDto(string File, bool Valid, string? Id, IReadOnlyList<DiagnosticDto> Diagnostics);

internal sealed record InstallOutput(string Id, string ManifestPath, string SourcePath, bool Replaced, TransportDto Transport, IReadOnlyList<ProvenanceDto> Shadows);

internal sealed record UninstallOutput(string Id, bool Removed, string? RemovedPath, IReadOnlyList<ProvenanceDto> StillDefinedBy);

internal sealed record ValidateOutput(IReadOnlyList<ValidatedFileDto> Files);

internal sealed record ImportServerDto(string Id, string? Key, string Name, TransportDto Transport, string Action, string? ManifestPath)
{
    /// <summary>Gets the id the hub discovers the original configuration entry under.</summary>
    public string? DiscoveredAs { get; init; }
}

internal sealed record ImportSourceDto(string Kind, string Path, bool Exists, IReadOnlyList<ImportServerDto> Servers, IReadOnlyList<DiagnosticDto> Diagnostics);

internal sealed record ImportOutput(bool Preview, string TargetDirectory, IReadOnlyList<ImportSourceDto> Sources);

internal sealed record InputDto(string Id, IReadOnlyList<string> DeclaredIn, bool Password, string ValueFrom, string Variable);

internal sealed record InputsOutput(string File, IReadOnlyList<InputDto> Inputs);

internal sealed record InputSetOutput(string Id, string File, string Variable, bool OverriddenByEnvironment, IReadOnlyList<string> DeclaredIn);

internal sealed record InputUnsetOutput(string Id, string File, bool Removed);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ServersOutput))]
[JsonSerializable(typeof(ToolsOutput))]
[JsonSerializable(typeof(ResourcesOutput))]
[JsonSerializable(typeof(PromptsOutput))]
[JsonSerializable(typeof(ErrorOutput))]
[JsonSerializable(typeof(ValidateOutput))]
[JsonSerializable(typeof(ImportOutput))]
[JsonSerializable(typeof(InstallOutput))]
[JsonSerializable(typeof(UninstallOutput))]
[JsonSerializable(typeof(InputsOutput))]
[JsonSerializable(typeof(InputSetOutput))]
[JsonSerializable(typeof(InputUnsetOutput))]
internal sealed partial class CliJsonContext : JsonSerializerContext;

/// <summary>Turns hub and registry objects into the CLI's JSON shapes.</summary>
internal static class Dto
{
    public static ProvenanceDto Provenance(ServerProvenance p) => new(p.Kind.ToString(), p.Location, p.Key, p.ToString());

    /// <summary>
    /// Describes a definition with the ids that reach it, checked against the snapshot it comes from: an id is named only
    /// when <see cref="RegistrySnapshot.Find"/> resolves it to this definition's server (a definition's own name may
    /// belong to another server, and a stable id may be taken).
    /// </summary>
    public static DefinitionDto Definition(ServerDefinition d, RegistrySnapshot snapshot)
    {
        string[] reachedAs = d.ServerId is null
            ? []
            : [.. new[] { d.ServerId, d.DefinedId, d.StableId }.OfType<string>().Distinct(StringComparer.Ordinal).Where(id => snapshot.Find(id)?.Id == d.ServerId)];
        return new(d.DefinedId, Provenance(d.Provenance), d.Role.ToString(), d.ServerId, d.StableId, reachedAs, Reach(d, reachedAs));
    }

    /// <summary>How a user reaches a definition, in words, naming only <paramref name="reachedAs"/>.</summary>
    private static string Reach(ServerDefinition d, string[] reachedAs)
    {
        var also = string.Join(", ", reachedAs.Where(id => id != d.ServerId).Select(id => $"'{id}'"));
        return d.Role switch
        {
            DefinitionRole.Listed => also.Length == 0 ? $"as '{d.ServerId}'" : $"as '{d.ServerId}' (also {also})",
            DefinitionRole.Alternate => $"as '{d.ServerId}': the name '{d.DefinedId}' is taken by a definition of higher precedence",
            DefinitionRole.Duplicate => $"through '{d.ServerId}', which has the same command or URL (not listed twice)"
                + (also.Length == 0 ? string.Empty : $"; {also} also reach{(reachedAs.Length == 2 ? "es" : string.Empty)} it")
                + (reachedAs.Contains(d.DefinedId) ? string.Empty : $" (the name '{d.DefinedId}' reaches another definition)"),
            _ => $"not reachable: a manifest of higher precedence with the id '{d.DefinedId}' replaces it (remove that manifest to use this one)",
        };
    }

    public static DiagnosticDto Diagnostic(ManifestDiagnostic d) => new(d.File, d.Field, d.Message, d.Severity == DiagnosticSeverity.Error ? "error" : "warning", d.Line);

    public static FailureDto? Failure(ServerFailure? f) => f is null ? null : new(f.Code.ToString(), f.Message, f.ExitCode, f.StandardErrorTail, f.HttpStatusCode);

    public static ServerListDto ServerList(ServerListResult r) => new(r.ServerId, r.Source.ToString(), Failure(r.Failure));

    public static TransportDto Transport(ServerTransport t, bool maskSecrets = true) => t switch
    {
        StdioTransport s => new TransportDto(s.Type)
        {
            Command = s.Command,
            Args = s.Args,
            Cwd = s.Cwd,
            Env = s.Env.Count == 0 ? null : s.Env.ToDictionary(p => p.Key, p => maskSecrets ? Mask(p.Value) : p.Value, StringComparer.Ordinal),
            Display = CommandLine.Format(s.Command, s.Args),
        },
        HttpTransport h => new TransportDto(h.Type)
        {
            Url = h.Url.OriginalString,
            Headers = h.Headers.Count == 0 ? null : h.Headers.ToDictionary(p => p.Key, p => maskSecrets ? Mask(p.Value) : p.Value, StringComparer.OrdinalIgnoreCase),
            LegacySse = h.LegacySse ? true : null,
            Display = h.Url.OriginalString,
        },
        SocketTransport k => new TransportDto(k.Type) { Path = k.Path, Display = k.Path },
        _ => new TransportDto(t.Type),
    };

    /// <summary>Hides a literal value (it may be a secret); keeps <c>${env:…}</c> and <c>${input:…}</c> references, which are not.</summary>
    public static string Mask(string value) => value.Contains("${", StringComparison.Ordinal) ? value : "***";
}
