using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Atlas.Desktop.Diagnostics;

/// <summary>Meter and activity source named after the project (exported by OpenTelemetry when configured).</summary>
internal static class AtlasTelemetry
{
    public const string Name = "Atlas.Desktop";

    public static readonly ActivitySource ActivitySource = new(Name);

    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Pairings = Meter.CreateCounter<long>("atlas.pairings", description: "Redeemed pairing tickets");

    public static readonly Counter<long> AuthFailures = Meter.CreateCounter<long>("atlas.auth.failures", description: "Failed authentications");

    public static readonly UpDownCounter<long> Connections = Meter.CreateUpDownCounter<long>("atlas.ws.connections", description: "Live authenticated sockets");

    public static readonly Counter<long> Frames = Meter.CreateCounter<long>("atlas.ws.frames", description: "Frames received");

    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>("atlas.ws.request.duration", "ms", "Request handling time");
}
