using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mmcp.Gateway.Diagnostics;

/// <summary>The gateway's <see cref="Meter"/> and <see cref="ActivitySource"/>, both named <c>Mmcp.Gateway</c>.</summary>
internal static class GatewayTelemetry
{
    public const string Name = "Mmcp.Gateway";
    public static readonly ActivitySource ActivitySource = new(Name);
    private static readonly Meter Meter = new(Name);
    private static readonly Counter<long> Calls = Meter.CreateCounter<long>("mmcp.gateway.calls", description: "Tool calls through the gateway, by surface and outcome.");
    private static readonly Histogram<double> CallDuration = Meter.CreateHistogram<double>("mmcp.gateway.call.duration", "ms", "Duration of tool calls through the gateway.");
    private static readonly Counter<long> Refusals = Meter.CreateCounter<long>("mmcp.gateway.refusals", description: "Requests refused by the guard or the consent store, by reason.");
    private static readonly UpDownCounter<long> Sessions = Meter.CreateUpDownCounter<long>("mmcp.gateway.sessions", description: "Open 2025-era MCP sessions, by endpoint kind.");

    public static void RecordCall(string surface, string outcome, TimeSpan duration)
    {
        var tags = new TagList { { "surface", surface }, { "outcome", outcome } };
        Calls.Add(1, tags);
        CallDuration.Record(duration.TotalMilliseconds, tags);
    }

    public static void RecordRefusal(string reason) => Refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void SessionOpened(string kind) => Sessions.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public static void SessionClosed(string kind) => Sessions.Add(-1, new KeyValuePair<string, object?>("kind", kind));
}
