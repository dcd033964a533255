namespace Mmcp.Client;

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
