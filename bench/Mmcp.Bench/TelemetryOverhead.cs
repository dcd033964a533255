using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Mmcp.Bench;

/// <summary>
/// What OpenTelemetry costs a warm hub call: the same calls without any provider (the default: nothing listens, no span
/// is created) and with a tracer and a meter provider subscribed to every source and meter the hub and the MCP SDK emit
/// (spans recorded and batched, metrics aggregated; the exporters discard, so the network is not measured), in
/// interleaved rounds.
/// </summary>
internal static class TelemetryOverhead
{
    private static readonly string[] Sources = ["Mmcp.Client", "Mmcp.Gateway", "Experimental.ModelContextProtocol"];

    public static async Task<Result> MeasureAsync(Func<Task> call, int calls)
    {
        for (var i = 0; i < 200; i++)
        {
            await call();
        }

        var off = new List<double>();
        var on = new List<double>();
        for (var round = 0; round < 5; round++)
        {
            off.AddRange(await EndToEnd.MeasureAsync(calls / 5, Timed(call)));
            using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(Sources).AddProcessor(new BatchActivityExportProcessor(new Discard<Activity>())).Build())
            using (var metrics = Sdk.CreateMeterProviderBuilder().AddMeter(Sources).AddReader(new PeriodicExportingMetricReader(new DiscardMetrics(), 1000)).Build())
            {
                on.AddRange(await EndToEnd.MeasureAsync(calls / 5, Timed(call)));
            }
        }

        return new Result("hub CallToolAsync, warm (socket), OpenTelemetry on (traces + metrics)", "the same, OpenTelemetry off (no provider)", on, off, "informational: off is the default, with no listener");
    }

    private static Func<Task<TimeSpan>> Timed(Func<Task> call) => async () =>
    {
        var sw = Stopwatch.StartNew();
        await call();
        return sw.Elapsed;
    };

    private sealed class Discard<T> : BaseExporter<T>
        where T : class
    {
        public override ExportResult Export(in Batch<T> batch) => ExportResult.Success;
    }

    private sealed class DiscardMetrics : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch) => ExportResult.Success;
    }
}
