using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mmcp.Gateway.Diagnostics;

/// <summary>The gateway's <see cref="Meter"/> and <see cref="ActivitySource"/>, both named <c>Mmcp.Gateway</c>.</summary>
internal static class GatewayTelemetry
{
    public const string Name = "Mmcp.Gateway";
    public static readonly ActivitySource ActivitySource = new(Name);
    private static readonly Meter Meter = new(Name);
    private static readonly Counter<long> Calls = Meter.CreateCounter<long>("mmcp.gateway.calls", "{call}", "Tool calls through the gateway, by surface, server, tool and outcome.");
    private static readonly Counter<long> CallErrors = Meter.CreateCounter<long>("mmcp.gateway.call.errors", "{call}", "Tool calls through the gateway that did not end ok, by surface, server, tool and outcome.");
    private static readonly Histogram<double> CallDuration = Meter.CreateHistogram<double>("mmcp.gateway.call.duration", "s", "Duration of tool calls through the gateway, by surface, server, tool and outcome.");
    private static readonly Counter<long> Refusals = Meter.CreateCounter<long>("mmcp.gateway.refusals", "{request}", "Requests refused by the guard or the consent store, by reason.");
    private static readonly Counter<long> BacklogDrops = Meter.CreateCounter<long>("mmcp.gateway.session.backlog.dropped", "{message}", "Messages the servers sent a session on its own that were dropped because the session's backlog was full (its client had not opened its GET stream).");
    private static readonly UpDownCounter<long> Sessions = Meter.CreateUpDownCounter<long>("mmcp.gateway.sessions", "{session}", "Open 2025-era MCP sessions, by endpoint kind.");

    /// <summary>Counts a message dropped from a session's backlog (see <c>Sessions.SessionOutbox</c>).</summary>
    public static void BacklogDropped() => BacklogDrops.Add(1);

    public static void RecordCall(string surface, string serverId, string toolName, string outcome, TimeSpan duration)
    {
        var tags = new TagList { { "surface", surface }, { "mmcp.server", serverId }, { "gen_ai.tool.name", toolName }, { "outcome", outcome } };
        Calls.Add(1, tags);
        if (outcome != "ok")
        {
            CallErrors.Add(1, tags);
        }

        CallDuration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>Starts the gateway's span around one tool call (inside the MCP SDK's server span for <c>/mcp</c>, ASP.NET
    /// Core's for REST), tagged after the OpenTelemetry MCP conventions with the name the client called (the aggregated
    /// name; the server's own name is <c>mmcp.tool</c>, and the hub's span under this one carries it); null, with nothing
    /// allocated, when no one listens.</summary>
    public static Activity? StartToolCall(string serverId, string toolName, string upstreamToolName, string surface)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        var activity = ActivitySource.StartActivity("tools/call " + toolName, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("mcp.method.name", "tools/call");
            activity.SetTag("gen_ai.operation.name", "execute_tool");
            activity.SetTag("gen_ai.tool.name", toolName);
            activity.SetTag("mmcp.tool", upstreamToolName);
            activity.SetTag("mmcp.server", serverId);
            activity.SetTag("mmcp.surface", surface);
        }

        return activity;
    }

    /// <summary>Marks a span failed with the outcome as <c>error.type</c> (nothing for ok).</summary>
    public static void Outcome(Activity? activity, string outcome)
    {
        if (activity is not null && outcome != "ok")
        {
            activity.SetStatus(ActivityStatusCode.Error, outcome);
            activity.SetTag("error.type", outcome);
        }
    }

    public static void RecordRefusal(string reason) => Refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void SessionOpened(string kind) => Sessions.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public static void SessionClosed(string kind) => Sessions.Add(-1, new KeyValuePair<string, object?>("kind", kind));
}
