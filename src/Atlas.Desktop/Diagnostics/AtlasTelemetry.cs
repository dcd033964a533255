using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Atlas.Desktop.Diagnostics;

/// <summary>Meter and activity source named after the project (exported by OpenTelemetry when configured).</summary>
internal static class AtlasTelemetry
{
    public const string Name = "Atlas.Desktop";

    public static readonly ActivitySource ActivitySource = new(Name);

    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Pairings = Meter.CreateCounter<long>("atlas.pairings", "{pairing}", "Redeemed pairing tickets");

    public static readonly Counter<long> AuthFailures = Meter.CreateCounter<long>("atlas.auth.failures", "{failure}", "Failed authentications");

    public static readonly UpDownCounter<long> Connections = Meter.CreateUpDownCounter<long>("atlas.ws.connections", "{connection}", "Live authenticated sockets, by atlas.device.kind: paired devices, and the desktop's own chat");

    public static readonly Counter<long> Frames = Meter.CreateCounter<long>("atlas.ws.frames", "{frame}", "Frames received");

    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>("atlas.ws.request.duration", "s", "Request handling time, by message type");

    /// <summary>The span of one frame from a device: a new trace (linked to the socket's HTTP span, which lives as long
    /// as the connection), so a chat turn is one trace from its frame through the provider and every tool call. Null,
    /// with nothing allocated, when no one listens.</summary>
    public static Activity? StartFrame(string type)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        var connection = Activity.Current;
        Activity.Current = null;
        var activity = ActivitySource.StartActivity(ActivityKind.Server, default, links: connection is null ? null : [new ActivityLink(connection.Context)],
            name: "atlas.ws " + type);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("atlas.message.type", type);
            activity.SetTag("network.protocol.name", "websocket");
            activity.SetTag("network.transport", "tcp");
        }

        return activity;
    }

    /// <summary>Marks a span failed with a stable error code as <c>error.type</c>.</summary>
    public static void Fail(Activity? activity, string errorType)
    {
        activity?.SetStatus(ActivityStatusCode.Error, errorType);
        activity?.SetTag("error.type", errorType);
    }

    /// <summary>The <c>atlas.device.kind</c> tag of a socket: <c>desktop</c> for the desktop's own chat ("This desktop"),
    /// <c>paired</c> for a paired device, so "devices connected" can leave the desktop out as the admin page does.</summary>
    public static KeyValuePair<string, object?> DeviceKind(string deviceId) =>
        new("atlas.device.kind", Admin.DesktopChat.Is(deviceId) ? "desktop" : "paired");
}
