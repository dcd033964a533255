using ModelContextProtocol.Protocol;

namespace Mmcp.Client;

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
