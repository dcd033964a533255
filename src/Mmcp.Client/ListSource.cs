namespace Mmcp.Client;

/// <summary>Where a listed item came from.</summary>
public enum ListSource
{
    /// <summary>The server answered just now (or earlier on the same connection, with no change announced since).</summary>
    Live,

    /// <summary>The last live answer, from this hub's memory or the cache file, served while the server starts or fails.</summary>
    Cache,

    /// <summary>The manifest's capability snapshot, served while the server starts or fails.</summary>
    Snapshot,

    /// <summary>Nothing could be listed (see the failure).</summary>
    None,
}
