using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client;

/// <summary>Where the connection to a server stands.</summary>
public enum ServerState
{
    /// <summary>Not connected; the next use connects (lazily).</summary>
    Disconnected,

    /// <summary>Starting or connecting now.</summary>
    Connecting,

    /// <summary>Connected and usable.</summary>
    Connected,

    /// <summary>Failed repeatedly; the hub waits until <see cref="ServerStatus.RetryAt"/> before trying again.</summary>
    BackingOff,
}

/// <summary>The live state of one server's connection.</summary>
/// <param name="State">Where the connection stands.</param>
/// <param name="ConsecutiveFailures">How many attempts failed in a row (reset by a successful request).</param>
/// <param name="LastFailure">The most recent failure, kept after recovery for diagnostics, or <see langword="null"/>.</param>
public sealed record ServerStatus(ServerState State, int ConsecutiveFailures, ServerFailure? LastFailure)
{
    /// <summary>Gets when the hub will try again, while <see cref="State"/> is <see cref="ServerState.BackingOff"/>.</summary>
    public DateTimeOffset? RetryAt { get; init; }

    /// <summary>Gets how many times the hub started a new session because the server no longer knew the old one (a remote server that restarted), since the hub started.</summary>
    public int Reconnects { get; init; }

    /// <summary>Gets the protocol version negotiated with the connected server, or <see langword="null"/>.</summary>
    public string? ProtocolVersion { get; init; }

    /// <summary>Gets the name and version the connected server reported, or <see langword="null"/>.</summary>
    public Implementation? ServerInfo { get; init; }

    /// <summary>Gets the capabilities the connected server reported, or <see langword="null"/>.</summary>
    public ServerCapabilities? Capabilities { get; init; }

    /// <summary>Gets the id of the server process the hub runs over stdio while connected, or <see langword="null"/>.</summary>
    public int? ProcessId { get; init; }

    /// <summary>Gets the id of the process the hub launched on demand for this server (it outlives the hub), or <see langword="null"/>.</summary>
    public int? LaunchedProcessId { get; init; }
}

/// <summary>A discovered server with its connection state.</summary>
/// <param name="Server">The definition, where it came from, and what it shadows.</param>
/// <param name="Status">The connection state.</param>
public sealed record HubServerInfo(DiscoveredServer Server, ServerStatus Status)
{
    /// <summary>Gets the server id.</summary>
    public string Id => Server.Id;

    /// <summary>Gets the manifest.</summary>
    public ServerManifest Manifest => Server.Manifest;
}

/// <summary>The outcome of discovery: the servers and every problem found in every source.</summary>
/// <param name="Servers">The servers, ordered by id.</param>
/// <param name="Diagnostics">Invalid manifests and configuration entries, with file, field and reason.</param>
public sealed record DiscoveryResult(IReadOnlyList<HubServerInfo> Servers, IReadOnlyList<ManifestDiagnostic> Diagnostics);

/// <summary>Where a listed item came from.</summary>
public enum ListSource
{
    /// <summary>The server answered just now (or earlier on the same connection, with no change announced since).</summary>
    Live,

    /// <summary>The last live answer, from this hub's memory or the cache file, served while the server starts or fails.</summary>
    Cache,

    /// <summary>The manifest's capability snapshot, served while the server starts or fails.</summary>
    Snapshot,

    /// <summary>Nothing could be listed (see the failure).</summary>
    None,
}

/// <summary>How listing went for one server.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="Source">Where its items came from.</param>
/// <param name="Failure">Why the live answer is missing, or <see langword="null"/> (a server still starting has no failure).</param>
public sealed record ServerListResult(string ServerId, ListSource Source, ServerFailure? Failure);

/// <summary>What listing across servers yields besides the items: the outcome per server.</summary>
public abstract class HubListing
{
    private protected HubListing(IReadOnlyList<ServerListResult> servers)
    {
        Servers = servers;
    }

    /// <summary>Gets the outcome for each server listed, ordered by id.</summary>
    public IReadOnlyList<ServerListResult> Servers { get; }

    /// <summary>Gets the servers whose live answer is missing because they failed.</summary>
    public IReadOnlyList<ServerListResult> Failures => [.. Servers.Where(s => s.Failure is not null)];
}

/// <summary>A tool of one server under its aggregated name.</summary>
/// <param name="Name">The aggregated name <c>&lt;serverId&gt;__&lt;tool&gt;</c> (at most 64 characters of <c>[a-zA-Z0-9_-]</c>).</param>
/// <param name="ServerId">The server id.</param>
/// <param name="Tool">The tool as the server describes it (its own name, description, input schema, annotations).</param>
/// <param name="Source">Where the definition came from.</param>
public sealed record HubTool(string Name, string ServerId, Tool Tool, ListSource Source)
{
    /// <summary>Gets the tool's own name on its server.</summary>
    public string ToolName => Tool.Name;
}

/// <summary>Tools across servers.</summary>
public sealed class ToolListing : HubListing
{
    internal ToolListing(IReadOnlyList<HubTool> tools, IReadOnlyList<ServerListResult> servers)
        : base(servers)
    {
        Tools = tools;
    }

    /// <summary>Gets the tools, ordered by aggregated name.</summary>
    public IReadOnlyList<HubTool> Tools { get; }
}

/// <summary>A resource of one server. Its URI is the server's own; read it with the same server id.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="Resource">The resource.</param>
public sealed record HubResource(string ServerId, Resource Resource);

/// <summary>A resource template of one server.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="Template">The template.</param>
public sealed record HubResourceTemplate(string ServerId, ResourceTemplate Template);

/// <summary>Resources and resource templates across servers.</summary>
public sealed class ResourceListing : HubListing
{
    internal ResourceListing(IReadOnlyList<HubResource> resources, IReadOnlyList<HubResourceTemplate> templates, IReadOnlyList<ServerListResult> servers)
        : base(servers)
    {
        Resources = resources;
        Templates = templates;
    }

    /// <summary>Gets the fixed resources, ordered by server and URI.</summary>
    public IReadOnlyList<HubResource> Resources { get; }

    /// <summary>Gets the resource templates, ordered by server and URI template.</summary>
    public IReadOnlyList<HubResourceTemplate> Templates { get; }
}

/// <summary>A prompt of one server.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="Prompt">The prompt.</param>
public sealed record HubPrompt(string ServerId, Prompt Prompt);

/// <summary>Prompts across servers.</summary>
public sealed class PromptListing : HubListing
{
    internal PromptListing(IReadOnlyList<HubPrompt> prompts, IReadOnlyList<ServerListResult> servers)
        : base(servers)
    {
        Prompts = prompts;
    }

    /// <summary>Gets the prompts, ordered by server and name.</summary>
    public IReadOnlyList<HubPrompt> Prompts { get; }
}

/// <summary>Which list of a server changed.</summary>
public enum HubListKind
{
    /// <summary>The tool list.</summary>
    Tools,

    /// <summary>The resource list.</summary>
    Resources,

    /// <summary>The prompt list.</summary>
    Prompts,
}

/// <summary>A server's tools, resources or prompts changed (the server announced it, or a fresh live list differs from what the hub served before).</summary>
public sealed class HubListChangedEventArgs : EventArgs
{
    internal HubListChangedEventArgs(string serverId, HubListKind kind)
    {
        ServerId = serverId;
        Kind = kind;
    }

    /// <summary>Gets the server id.</summary>
    public string ServerId { get; }

    /// <summary>Gets which list changed.</summary>
    public HubListKind Kind { get; }
}
