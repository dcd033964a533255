using System.ComponentModel;
using ModelContextProtocol.Server;

namespace Mmcp.Server;

/// <summary>
/// What the Mmcp source generator knows about a server at compile time: its identity, its install-time manifest and
/// factories for its tools, resources and prompts (reflection-free subclasses of the SDK's primitives).
/// </summary>
public sealed class MmcpServerDefinition
{
    private readonly Func<McpServerTool[]> _tools;
    private readonly Func<McpServerResource[]> _resources;
    private readonly Func<McpServerPrompt[]> _prompts;

    /// <summary>Initializes a new instance of the <see cref="MmcpServerDefinition"/> class. Called by generated code.</summary>
    /// <param name="id">The reverse-DNS server id.</param>
    /// <param name="name">The human-readable name.</param>
    /// <param name="description">What the server does.</param>
    /// <param name="version">The version.</param>
    /// <param name="categories">The manifest categories.</param>
    /// <param name="permissions">The permissions the server asks for.</param>
    /// <param name="manifestJson">The build-time manifest (relative socket name, capability snapshot, no launch entry).</param>
    /// <param name="tools">Creates the tools.</param>
    /// <param name="resources">Creates the resources.</param>
    /// <param name="prompts">Creates the prompts.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public MmcpServerDefinition(
        string id,
        string name,
        string description,
        string version,
        IReadOnlyList<string> categories,
        IReadOnlyList<string> permissions,
        string manifestJson,
        Func<McpServerTool[]> tools,
        Func<McpServerResource[]> resources,
        Func<McpServerPrompt[]> prompts)
    {
        Id = id;
        Name = name;
        Description = description;
        Version = version;
        Categories = categories;
        Permissions = permissions;
        ManifestJson = manifestJson;
        _tools = tools;
        _resources = resources;
        _prompts = prompts;
    }

    /// <summary>Gets the reverse-DNS server id.</summary>
    public string Id { get; }

    /// <summary>Gets the human-readable name.</summary>
    public string Name { get; }

    /// <summary>Gets what the server does.</summary>
    public string Description { get; }

    /// <summary>Gets the version.</summary>
    public string Version { get; }

    /// <summary>Gets the manifest categories.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>Gets the permissions the server asks for.</summary>
    public IReadOnlyList<string> Permissions { get; }

    /// <summary>
    /// Gets the manifest as generated at compile time: identity, a socket transport with the relative name
    /// <c>&lt;id&gt;.sock</c> (resolved per user on install) and the capability snapshot; no <c>launch</c> entry
    /// (added by the build from where the app is).
    /// </summary>
    public string ManifestJson { get; }

    /// <summary>Returns the definition of a generated server.</summary>
    /// <typeparam name="TServer">The <c>[McpServer]</c> class.</typeparam>
    /// <returns>The definition.</returns>
    public static MmcpServerDefinition Of<TServer>()
        where TServer : IMmcpServer => TServer.Definition;

    /// <summary>Creates new instances of the server's tools.</summary>
    /// <returns>The tools.</returns>
    public IReadOnlyList<McpServerTool> CreateTools() => _tools();

    /// <summary>Creates new instances of the server's resources and resource templates.</summary>
    /// <returns>The resources.</returns>
    public IReadOnlyList<McpServerResource> CreateResources() => _resources();

    /// <summary>Creates new instances of the server's prompts.</summary>
    /// <returns>The prompts.</returns>
    public IReadOnlyList<McpServerPrompt> CreatePrompts() => _prompts();
}
