namespace Atlas.Desktop.Diagnostics;

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
        (1000, 1099, "Atlas.Desktop.Diagnostics.Log", "network guards: address, Host, Origin, WebSocket admission"),
        (1100, 1199, "Atlas.Desktop.Diagnostics.Log", "pairing and devices: attempts, approval, revocation, notifications"),
        (1200, 1299, "Atlas.Desktop.Diagnostics.Log", "realtime: WebSocket loops and requests"),
        (1300, 1399, "Atlas.Desktop.Diagnostics.Log", "host: background cleanup, control socket"),
        (1400, 1499, "Atlas.Desktop.Chat", "chat: generations, tools, providers"),
        (1500, 1599, "Atlas.Desktop.Diagnostics.Log", "identity: TLS mode and the local CA"),
        (1800, 1899, "Atlas.Desktop.Admin.AdminSignIns", "admin: sign-ins to remote MCP servers (OAuth)"),
    ];
}
