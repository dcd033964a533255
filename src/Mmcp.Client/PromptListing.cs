namespace Mmcp.Client;

/// <summary>Prompts across servers.</summary>
public sealed class PromptListing : HubListing
{
    internal PromptListing(IReadOnlyList<HubPrompt> prompts, IReadOnlyList<ServerListResult> servers)
        : base(servers)
    {
        Prompts = prompts;
    }

    /// <summary>Gets the prompts, ordered by server and name.</summary>
    public IReadOnlyList<HubPrompt> Prompts { get; }
}
