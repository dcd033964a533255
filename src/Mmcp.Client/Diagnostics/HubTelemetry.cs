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
