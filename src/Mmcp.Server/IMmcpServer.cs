namespace Mmcp.Server;

/// <summary>
/// An MCP server whose tools, resources, prompts, identity and manifest were generated at compile time. The Mmcp
/// source generator implements it on every <c>partial</c> class marked <see cref="McpServerAttribute"/>; do not implement
/// it by hand.
/// </summary>
/// <remarks>
/// <c>services.AddMmcpServer&lt;T&gt;()</c> is constrained on this interface, so registration needs no reflection and
/// works under NativeAOT and trimming.
/// </remarks>
public interface IMmcpServer
{
    /// <summary>Gets the server's generated definition.</summary>
    static abstract MmcpServerDefinition Definition { get; }
}
