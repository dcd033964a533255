namespace Mmcp.Server;

/// <summary>
/// Marks the <c>partial</c> class that holds an app's MCP tools, resources and prompts: its id, name, description and
/// version become the server's identity and its install-time manifest, and the Mmcp source generator registers its
/// methods without reflection (the class then implements <see cref="IMmcpServer"/>).
/// </summary>
/// <remarks>
/// <code>
/// [McpServer("com.example.notes", "Notes", "Reads and writes notes.", "1.0.0")]
/// public sealed partial class NotesServer
/// {
///     /// &lt;summary&gt;Echoes the text.&lt;/summary&gt;
///     /// &lt;param name="text"&gt;The text.&lt;/param&gt;
///     [McpServerTool] public static string Echo(string text) =&gt; text;
/// }
///
/// builder.Services.AddMmcpServer&lt;NotesServer&gt;();
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
