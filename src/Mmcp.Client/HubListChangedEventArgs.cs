namespace Mmcp.Client;

/// <summary>A server's tools, resources or prompts changed (the server announced it, or a fresh live list differs from what the hub served before).</summary>
public sealed class HubListChangedEventArgs : EventArgs
{
    internal HubListChangedEventArgs(string serverId, HubListKind kind)
    {
        ServerId = serverId;
        Kind = kind;
    }

    /// <summary>Gets the server id.</summary>
    public string ServerId { get; }

    /// <summary>Gets which list changed.</summary>
    public HubListKind Kind { get; }
}
