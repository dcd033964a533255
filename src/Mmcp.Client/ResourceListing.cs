namespace Mmcp.Client;

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
