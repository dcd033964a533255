using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mmcp.Client.Diagnostics;

/// <summary>The hub's metrics and traces, named <c>Mmcp.Client</c> so OpenTelemetry can subscribe to them.</summary>
internal static class HubTelemetry
{
    public const string Name = "Mmcp.Client";

    public static readonly ActivitySource ActivitySource = new(Name, typeof(HubTelemetry).Assembly.GetName().Version?.ToString(3));

    private static readonly Meter Meter = new(Name, typeof(HubTelemetry).Assembly.GetName().Version?.ToString(3));

    private static readonly Counter<long> Requests = Meter.CreateCounter<long>("mmcp.client.requests", "{request}", "Requests sent to servers, by server, method and outcome.");

    private static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>("mmcp.client.request.duration", "s", "How long requests to servers took, by server, method and outcome.");

    private static readonly Counter<long> Errors = Meter.CreateCounter<long>("mmcp.client.errors", "{error}", "Hub errors, by server and error code.");

    private static readonly UpDownCounter<long> Connections = Meter.CreateUpDownCounter<long>("mmcp.client.connections", "{connection}", "Open server connections, by server and transport.");

    private static readonly Histogram<double> ConnectDuration = Meter.CreateHistogram<double>("mmcp.client.connect.duration", "s", "How long connecting (launch and handshake) took, by server, transport and outcome.");

    /// <summary>Starts the client span of one request to a server, named and tagged after the OpenTelemetry MCP conventions
    /// (<c>{mcp.method.name} {target}</c> for tools and prompts, whose names are low-cardinality; the method alone
    /// otherwise). Null, with nothing allocated, when no one listens.</summary>
    public static Activity? StartRequest(string serverId, string method, string? target, string transport)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        var named = target is not null && method is "tools/call" or "prompts/get";
        var activity = ActivitySource.StartActivity(named ? method + " " + target : method, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("mcp.method.name", method);
            activity.SetTag("mmcp.server", serverId);
            activity.SetTag("network.transport", transport is "stdio" or "socket" ? "pipe" : "tcp");
            if (named)
            {
                activity.SetTag(method == "tools/call" ? "gen_ai.tool.name" : "gen_ai.prompt.name", target);
            }

            if (method == "tools/call")
            {
                activity.SetTag("gen_ai.operation.name", "execute_tool");
            }
        }

        return activity;
    }

    /// <summary>Starts the span of connecting to a server (launch and handshake), a trace of its own: the connection
    /// outlives the request that needed it, so the span links to that request's span instead of joining its trace.</summary>
    public static Activity? StartConnect(string serverId, string transport, ActivityContext? trigger)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        var activity = ActivitySource.StartActivity(ActivityKind.Internal, default, links: Shared.Telemetry.Detached.LinkTo(trigger), name: "mmcp.connect " + serverId);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("mmcp.server", serverId);
            activity.SetTag("network.transport", transport is "stdio" or "socket" ? "pipe" : "tcp");
        }

        return activity;
    }

    /// <summary>Marks a span failed with the stable error code as <c>error.type</c>.</summary>
    public static void Fail(Activity? activity, string errorType)
    {
        activity?.SetStatus(ActivityStatusCode.Error, errorType);
        activity?.SetTag("error.type", errorType);
    }

    public static void RecordRequest(string serverId, string method, string outcome, TimeSpan elapsed)
    {
        var tags = new TagList { { "mmcp.server", serverId }, { "mcp.method", method }, { "outcome", outcome } };
        Requests.Add(1, tags);
        RequestDuration.Record(elapsed.TotalSeconds, tags);
    }

    public static void RecordError(string? serverId, HubErrorCode code) =>
        Errors.Add(1, new TagList { { "mmcp.server", serverId ?? string.Empty }, { "error.code", code.ToString() } });

    public static void RecordConnect(string serverId, string transport, string outcome, TimeSpan elapsed) =>
        ConnectDuration.Record(elapsed.TotalSeconds, new TagList { { "mmcp.server", serverId }, { "mmcp.transport", transport }, { "outcome", outcome } });

    public static void ConnectionOpened(string serverId, string transport) =>
        Connections.Add(1, new TagList { { "mmcp.server", serverId }, { "mmcp.transport", transport } });

    public static void ConnectionClosed(string serverId, string transport) =>
        Connections.Add(-1, new TagList { { "mmcp.server", serverId }, { "mmcp.transport", transport } });
}
