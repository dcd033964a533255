namespace Mmcp.Core.Diagnostics;

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
        (5000, 5099, "Mmcp.Core.Registry", "manifest registry: directory reads and reloads"),
    ];
}
