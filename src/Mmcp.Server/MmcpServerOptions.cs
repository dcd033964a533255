using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Server;

/// <summary>How an app serves MCP over its local socket and announces itself. Validated when the host starts.</summary>
public sealed class MmcpServerOptions
{
    /// <summary>Gets or sets the reverse-DNS server id. The default comes from <see cref="McpServerAttribute"/>.</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>Gets or sets the human-readable name. The default comes from <see cref="McpServerAttribute"/>.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Gets or sets what the server does. The default comes from <see cref="McpServerAttribute"/>.</summary>
    public string Description { get; set; } = string.Empty;

    /// <summary>Gets or sets the version. The default comes from <see cref="McpServerAttribute"/>.</summary>
    public string Version { get; set; } = string.Empty;

    /// <summary>Gets the categories written into the manifest.</summary>
    public IList<string> Categories { get; } = [];

    /// <summary>Gets the permissions written into the manifest.</summary>
    public IList<string> Permissions { get; } = [];

    /// <summary>
    /// Gets or sets the socket path. A relative name is placed in the Mmcp runtime directory
    /// (<c>$XDG_RUNTIME_DIR/mmcp</c>). The default is <see langword="null"/>: <c>&lt;id&gt;.sock</c>, shortened to a
    /// hashed name when the full path would exceed the platform's socket path limit.
    /// </summary>
    public string? SocketPath { get; set; }

    /// <summary>Gets or sets a value indicating whether the manifest is written into the registry when the host starts. The default is <see langword="true"/>.</summary>
    public bool RegisterManifest { get; set; } = true;

    /// <summary>Gets or sets the registry directory the manifest is written to. The default is <see langword="null"/>: the user registry directory (<c>MMCP_REGISTRY_PATH</c>'s first entry or <c>$XDG_DATA_HOME/mmcp/servers</c>).</summary>
    public string? RegistryDirectory { get; set; }

    /// <summary>Gets or sets a value indicating whether the manifest carries a snapshot of the tools, resources and prompts (so hubs list them without connecting). The default is <see langword="true"/>.</summary>
    public bool IncludeCapabilitySnapshot { get; set; } = true;

    /// <summary>
    /// Gets or sets how a hub starts this app when its socket is not listening. The default is <see langword="null"/>:
    /// the command that started this process (the app host, or <c>dotnet app.dll</c>), with <see cref="LaunchArguments"/>.
    /// Set <see cref="WriteLaunch"/> to <see langword="false"/> for apps that must not be started on demand.
    /// </summary>
    public LaunchSpec? Launch { get; set; }

    /// <summary>Gets the arguments of the default launch command.</summary>
    public IList<string> LaunchArguments { get; } = [];

    /// <summary>Gets or sets a value indicating whether the manifest has a <c>launch</c> entry. The default is <see langword="true"/>.</summary>
    public bool WriteLaunch { get; set; } = true;

    /// <summary>Gets the OS user ids allowed to connect in addition to this process's own user. The default is empty (same user only).</summary>
    public ISet<uint> AllowedPeerUserIds { get; } = new HashSet<uint>();

    /// <summary>Gets or sets the OS user id that counts as "the same user". The default is <see langword="null"/>: this process's effective user id.</summary>
    public uint? OwnerUserId { get; set; }

    /// <summary>Gets or sets the most concurrent connections; further ones are closed at once. The default is 256.</summary>
    public int MaxConnections { get; set; } = 256;

    /// <summary>Gets or sets how long shutdown waits for sessions to finish before cancelling them. The default is 5 seconds.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the environment used to locate the registry and runtime directories. The default is the current process's.</summary>
    public MmcpEnvironment Environment { get; set; } = MmcpEnvironment.Process;

    /// <summary>Copies the generated identity (from <see cref="McpServerAttribute"/>) into empty fields.</summary>
    /// <param name="definition">The generated server definition.</param>
    public void ApplyDefaults(MmcpServerDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        Id = Id.Length == 0 ? definition.Id : Id;
        Name = Name.Length == 0 ? definition.Name : Name;
        Description = Description.Length == 0 ? definition.Description : Description;
        Version = Version.Length == 0 ? definition.Version : Version;
        foreach (var category in definition.Categories.Where(c => !Categories.Contains(c)))
        {
            Categories.Add(category);
        }

        foreach (var permission in definition.Permissions.Where(p => !Permissions.Contains(p)))
        {
            Permissions.Add(permission);
        }
    }
}
