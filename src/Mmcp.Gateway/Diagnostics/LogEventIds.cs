namespace Mmcp.Gateway.Diagnostics;

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
        (4000, 4099, "Mmcp.Gateway.Security", "refused requests (Host/Origin, session limits)"),
        (4100, 4199, "Mmcp.Gateway.Audit", "the audit log"),
        (4200, 4299, "Mmcp.Gateway.PassThrough", "pass-through sessions"),
        (4300, 4399, "Mmcp.Gateway.Sessions", "sessions: shared connections, pushes, abandoned sessions"),
        (4400, 4499, "Mmcp.Gateway.Fronts", "the JSON-RPC front"),
        (4500, 4599, "Mmcp.Gateway.Aggregation", "the aggregated endpoint and upstream traffic"),
        (4600, 4699, "Mmcp.Gateway.Search", "tool search: embeddings and their cache"),
        (4700, 4799, "Mmcp.Gateway.Security.OAuthResourceServer", "OAuth access tokens (the resource server)"),
    ];
}
