using System.Diagnostics.Metrics;
using Atlas.Desktop.Diagnostics;

namespace Atlas.Desktop.Chat;

/// <summary>Chat instruments on the <c>Atlas.Desktop</c> meter.</summary>
internal static class ChatTelemetry
{
    public static readonly Counter<long> Generations = AtlasTelemetry.Meter.CreateCounter<long>("atlas.chat.generations", description: "Generations started");

    public static readonly Counter<long> Outcomes = AtlasTelemetry.Meter.CreateCounter<long>("atlas.chat.outcomes", description: "Generations ended, by status and code");

    public static readonly Counter<long> Deltas = AtlasTelemetry.Meter.CreateCounter<long>("atlas.chat.deltas", description: "Text deltas received from the provider");

    public static readonly Counter<long> Tokens = AtlasTelemetry.Meter.CreateCounter<long>("atlas.chat.tokens", description: "Tokens reported by the provider");

    public static readonly Counter<double> Cost = AtlasTelemetry.Meter.CreateCounter<double>("atlas.chat.cost", description: "Provider credits spent");

    public static readonly Counter<long> ToolCalls = AtlasTelemetry.Meter.CreateCounter<long>("atlas.chat.tool_calls", description: "Tool calls, by outcome");

    public static readonly UpDownCounter<long> Active = AtlasTelemetry.Meter.CreateUpDownCounter<long>("atlas.chat.active", description: "Running generations");

    public static readonly Histogram<double> FirstDelta = AtlasTelemetry.Meter.CreateHistogram<double>("atlas.chat.first_delta", "ms", "Time from the message to the first text");
}
