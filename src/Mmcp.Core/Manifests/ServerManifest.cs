using ModelContextProtocol.Protocol;

namespace Mmcp.Core.Manifests;

/// <summary>
/// An MCP server's install-time announcement: who it is, how to reach it, how to start it, and optionally a snapshot
/// of what it offers so that a hub can list its tools without connecting. Schema version 1
/// (<c>schemas/mmcp-manifest.v1.schema.json</c>).
/// </summary>
public sealed class ServerManifest
{
    /// <summary>The manifest schema version this library reads and writes.</summary>
    public const int CurrentManifestVersion = 1;

    /// <summary>Gets the manifest schema version. The default is <see cref="CurrentManifestVersion"/>.</summary>
    public int ManifestVersion { get; init; } = CurrentManifestVersion;

    /// <summary>Gets the unique server id (reverse-DNS for manifests, for example <c>io.mmcp.examples.files</c>).</summary>
    public required string Id { get; init; }

    /// <summary>Gets the human-readable name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets what the server does, in one or two sentences.</summary>
    public required string Description { get; init; }

    /// <summary>Gets the server's version string.</summary>
    public required string Version { get; init; }

    /// <summary>Gets how a client reaches the server.</summary>
    public required ServerTransport Transport { get; init; }

    /// <summary>Gets how to start the app when its socket is not listening (on-demand start), or <see langword="null"/>.</summary>
    public LaunchSpec? Launch { get; init; }

    /// <summary>Gets free-form categories used for grouping and search (for example <c>files</c>).</summary>
    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>Gets the permissions the server asks for (for example <c>files.read</c>).</summary>
    public IReadOnlyList<string> Permissions { get; init; } = [];

    /// <summary>Gets the MCP protocol version the hub must use with this server, or <see langword="null"/> to negotiate.</summary>
    /// <remarks>Pin <c>2025-11-25</c> for old stdio servers that exit on an unexpected <c>server/discover</c>.</remarks>
    public string? ProtocolVersion { get; init; }

    /// <summary>Gets per-server overrides of the hub's launch, handshake, call and idle budgets, or <see langword="null"/>.</summary>
    public ServerTimeouts? Timeouts { get; init; }

    /// <summary>Gets the capability snapshot, or <see langword="null"/> when the manifest carries none.</summary>
    /// <remarks>A live server's answer always wins over the snapshot.</remarks>
    public CapabilitySnapshot? Capabilities { get; init; }

    /// <summary>Returns a copy of this manifest under another id (for example a shadowed client entry made reachable).</summary>
    /// <param name="id">The new id.</param>
    /// <returns>The copy.</returns>
    public ServerManifest WithId(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return new ServerManifest
        {
            ManifestVersion = ManifestVersion,
            Id = id,
            Name = Name,
            Description = Description,
            Version = Version,
            Categories = Categories,
            Permissions = Permissions,
            ProtocolVersion = ProtocolVersion,
            Timeouts = Timeouts,
            Transport = Transport,
            Launch = Launch,
            Capabilities = Capabilities,
        };
    }

    /// <summary>Returns a copy of this manifest with another transport and launch entry (for example with paths resolved on install).</summary>
    /// <param name="transport">The transport.</param>
    /// <param name="launch">The launch entry, or <see langword="null"/> for none.</param>
    /// <returns>The copy.</returns>
    public ServerManifest WithTransportAndLaunch(ServerTransport transport, LaunchSpec? launch)
    {
        ArgumentNullException.ThrowIfNull(transport);
        return new ServerManifest
        {
            ManifestVersion = ManifestVersion,
            Id = Id,
            Name = Name,
            Description = Description,
            Version = Version,
            Categories = Categories,
            Permissions = Permissions,
            ProtocolVersion = ProtocolVersion,
            Timeouts = Timeouts,
            Transport = transport,
            Launch = launch,
            Capabilities = Capabilities,
        };
    }
}

/// <summary>How a client reaches a server. One of <see cref="SocketTransport"/>, <see cref="StdioTransport"/> or <see cref="HttpTransport"/>.</summary>
public abstract class ServerTransport
{
    private protected ServerTransport()
    {
    }

    /// <summary>Gets the transport's wire name: <c>socket</c>, <c>stdio</c> or <c>http</c>.</summary>
    public abstract string Type { get; }
}

/// <summary>A Unix domain socket (named pipe on Windows) carrying newline-delimited JSON-RPC, one MCP session per connection.</summary>
public sealed class SocketTransport : ServerTransport
{
    /// <summary>The wire name of this transport.</summary>
    public const string TypeName = "socket";

    /// <inheritdoc/>
    public override string Type => TypeName;

    /// <summary>Gets the socket path. A relative path is resolved against the Mmcp runtime directory.</summary>
    public required string Path { get; init; }
}

/// <summary>A child process speaking MCP over its standard input and output.</summary>
public sealed class StdioTransport : ServerTransport
{
    /// <summary>The wire name of this transport.</summary>
    public const string TypeName = "stdio";

    /// <inheritdoc/>
    public override string Type => TypeName;

    /// <summary>Gets the program to run (a path, or a name looked up on <c>PATH</c>). It is never run through a shell.</summary>
    public required string Command { get; init; }

    /// <summary>Gets the program's arguments.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>Gets extra environment variables for the child process.</summary>
    /// <remarks>Values may reference <c>${env:NAME}</c> and <c>${input:ID}</c>, resolved when the process starts.</remarks>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets the working directory, or <see langword="null"/> for the hub's own.</summary>
    public string? Cwd { get; init; }
}

/// <summary>A remote server over MCP Streamable HTTP (or the legacy HTTP+SSE transport).</summary>
public sealed class HttpTransport : ServerTransport
{
    /// <summary>The wire name of this transport.</summary>
    public const string TypeName = "http";

    /// <inheritdoc/>
    public override string Type => TypeName;

    /// <summary>Gets the endpoint URL (http or https).</summary>
    public required Uri Url { get; init; }

    /// <summary>Gets extra request headers (for example <c>Authorization</c>).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets a value indicating whether the server only speaks the legacy HTTP+SSE transport. The default is <see langword="false"/>.</summary>
    public bool LegacySse { get; init; }

    /// <summary>Gets how mmcp signs in to the server with OAuth (a pre-registered client, scopes), or <see langword="null"/> for the defaults (dynamic client registration, the scopes the server asks for).</summary>
    public OAuthClientSettings? OAuth { get; init; }
}

/// <summary>The OAuth client mmcp signs in to a remote server as, when the defaults do not fit (manifest field <c>transport.oauth</c>).</summary>
public sealed class OAuthClientSettings
{
    /// <summary>Gets the client id registered at the authorization server (no dynamic registration then), or <see langword="null"/>.</summary>
    public string? ClientId { get; init; }

    /// <summary>Gets the client secret of <see cref="ClientId"/> as a <c>${env:NAME}</c> or <c>${input:ID}</c> reference (never the secret itself), or <see langword="null"/> for a public client.</summary>
    public string? ClientSecret { get; init; }

    /// <summary>Gets the scopes to ask for, instead of those the server names; empty for the server's.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>Gets the https URL of mmcp's client ID metadata document, used as the client id where the authorization server supports such documents, or <see langword="null"/>.</summary>
    public Uri? ClientMetadataUrl { get; init; }

    /// <summary>Gets the loopback port of the redirect URI (<c>http://127.0.0.1:PORT/callback</c>) for an authorization server that matches redirect URIs exactly, or <see langword="null"/> for any free port.</summary>
    public int? RedirectPort { get; init; }
}

/// <summary>How to start an app whose socket is not listening.</summary>
public sealed class LaunchSpec
{
    /// <summary>Gets the program to run. It is never run through a shell.</summary>
    public required string Command { get; init; }

    /// <summary>Gets the program's arguments.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>Gets extra environment variables.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets the working directory, or <see langword="null"/>.</summary>
    public string? Cwd { get; init; }
}

/// <summary>Per-server overrides of the hub's budgets. Unset values use the hub's defaults.</summary>
public sealed class ServerTimeouts
{
    /// <summary>Gets how long starting the server (process start or on-demand launch until its socket listens) may take.</summary>
    public TimeSpan? Launch { get; init; }

    /// <summary>Gets how long the MCP handshake may take once connected.</summary>
    public TimeSpan? Handshake { get; init; }

    /// <summary>Gets how long one request may take.</summary>
    public TimeSpan? Call { get; init; }

    /// <summary>Gets how long an unused connection stays open.</summary>
    public TimeSpan? Idle { get; init; }
}

/// <summary>What a server offers, captured at build or install time, in the shape of the MCP list results.</summary>
public sealed class CapabilitySnapshot
{
    /// <summary>Gets the tools (as in a <c>tools/list</c> result).</summary>
    public IReadOnlyList<Tool> Tools { get; init; } = [];

    /// <summary>Gets the fixed resources (as in a <c>resources/list</c> result).</summary>
    public IReadOnlyList<Resource> Resources { get; init; } = [];

    /// <summary>Gets the resource templates (as in a <c>resources/templates/list</c> result).</summary>
    public IReadOnlyList<ResourceTemplate> ResourceTemplates { get; init; } = [];

    /// <summary>Gets the prompts (as in a <c>prompts/list</c> result).</summary>
    public IReadOnlyList<Prompt> Prompts { get; init; } = [];
}
