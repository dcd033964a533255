namespace Mmcp.Client;

/// <summary>Which list of a server changed.</summary>
public enum HubListKind
{
    /// <summary>The tool list.</summary>
    Tools,

    /// <summary>The resource list.</summary>
    Resources,

    /// <summary>The prompt list.</summary>
    Prompts,
}
