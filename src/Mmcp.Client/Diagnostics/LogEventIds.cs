namespace Mmcp.Client.Diagnostics;

/// <summary>The one place where this assembly's log event ids are allocated. Each area owns a range of ids, and only
/// the log methods declared in its owner (a namespace or a type, matched by prefix) may use them; a new
/// <c>[LoggerMessage]</c> takes the next free id of its area (or a new area takes the next free range here).
/// <c>LogEventIdsTests</c> in the test project fails on a duplicate id, an id outside every range, or an id in
/// another owner's range.</summary>
internal static class LogEventIds
{
    /// <summary>The ranges (first and last id, inclusive), their owners and what the area logs.</summary>
    public static readonly (int First, int Last, string Owner, string Area)[] Ranges =
    [
        (3000, 3099, "Mmcp.Client.Lifecycle", "server sessions: start, crash, restart, stop"),
        (3100, 3199, "Mmcp.Client.MmcpHub", "the hub"),
        (3200, 3299, "Mmcp.Client.Catalog", "the tool cache"),
        (3300, 3399, "Mmcp.Client.Traffic", "the traffic tap"),
        (3400, 3499, "Mmcp.Client.Connectors", "connectors: the hub's own stdio transport"),
        (3500, 3599, "Mmcp.Client.Authorization", "OAuth sign-ins to remote servers: client registrations"),
    ];
}
