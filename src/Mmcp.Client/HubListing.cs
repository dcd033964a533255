namespace Mmcp.Client;

/// <summary>What listing across servers yields besides the items: the outcome per server.</summary>
public abstract class HubListing
{
    private protected HubListing(IReadOnlyList<ServerListResult> servers)
    {
        Servers = servers;
    }

    /// <summary>Gets the outcome for each server listed, ordered by id.</summary>
    public IReadOnlyList<ServerListResult> Servers { get; }

    /// <summary>Gets the servers whose live answer is missing because they failed.</summary>
    public IReadOnlyList<ServerListResult> Failures => [.. Servers.Where(s => s.Failure is not null)];
}
