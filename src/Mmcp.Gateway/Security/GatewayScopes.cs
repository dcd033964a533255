namespace Mmcp.Gateway.Security;

/// <summary>The scopes a gateway token can carry.</summary>
public static class GatewayScopes
{
    /// <summary>List tools (MCP <c>tools/list</c>, REST <c>/mcp/tools/list</c>, <c>/openapi.json</c>).</summary>
    public const string ToolsList = "tools:list";

    /// <summary>Call tools (implies nothing else; list needs <see cref="ToolsList"/>).</summary>
    public const string ToolsCall = "tools:call";

    /// <summary>List and read resources, and subscribe to them.</summary>
    public const string ResourcesRead = "resources:read";

    /// <summary>List and get prompts, and complete their arguments.</summary>
    public const string PromptsRead = "prompts:read";

    /// <summary>Watch a server's JSON-RPC traffic (<c>mmcp inspect</c>).</summary>
    public const string Inspect = "inspect";

    /// <summary>Every scope.</summary>
    public const string All = "*";

    /// <summary>Gets every scope name a token may carry.</summary>
    public static IReadOnlyList<string> Known { get; } = [ToolsList, ToolsCall, ResourcesRead, PromptsRead, Inspect, All];
}
