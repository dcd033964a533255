namespace Mmcp.Server;

/// <summary>
/// Marks the class that describes an app's MCP server: its id, name, description and version become the server's
/// identity and its install-time manifest.
/// </summary>
/// <remarks>
/// Apply it once per app, usually to the class that also holds the tools (<c>[McpServerToolType]</c>):
/// <code>
/// [McpServer("com.example.notes", "Notes", "Reads and writes notes.", "1.0.0")]
/// public sealed class NotesServer { [McpServerTool] public static string Echo(string text) =&gt; text; }
/// </code>
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class McpServerAttribute : Attribute
{
    /// <summary>Initializes a new instance of the <see cref="McpServerAttribute"/> class.</summary>
    /// <param name="id">The reverse-DNS server id, for example <c>com.example.notes</c>.</param>
    /// <param name="name">The human-readable name.</param>
    /// <param name="description">What the server does.</param>
    /// <param name="version">The server's version.</param>
    public McpServerAttribute(string id, string name, string description, string version)
    {
        Id = id;
        Name = name;
        Description = description;
        Version = version;
    }

    /// <summary>Gets the reverse-DNS server id.</summary>
    public string Id { get; }

    /// <summary>Gets the human-readable name.</summary>
    public string Name { get; }

    /// <summary>Gets what the server does.</summary>
    public string Description { get; }

    /// <summary>Gets the server's version.</summary>
    public string Version { get; }

    /// <summary>Gets or sets categories for grouping and search.</summary>
    public string[] Categories { get; set; } = [];

    /// <summary>Gets or sets the permissions the server asks for.</summary>
    public string[] Permissions { get; set; } = [];
}
