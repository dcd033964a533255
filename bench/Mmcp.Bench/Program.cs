using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Mmcp.Bench;

// Usage: dotnet run -c Release --project bench/Mmcp.Bench [-- discovery|e2e|otel|all] [--iterations N]
// otel: warm hub calls with OpenTelemetry off (no provider) and on (tracer and meter providers), interleaved.
var cli = Bench.BenchArgs.Parse(args, """
    Usage: Mmcp.Bench [discovery|e2e|otel|all] [--iterations N]
      discovery        BenchmarkDotNet: discovery of manifests
      e2e              end-to-end hub calls
      otel             warm hub calls with OpenTelemetry off and on, interleaved
      all              every one of them (default)
      --iterations N   iterations of e2e and otel (default 200)
      -h, --help       this text
    """, numbers: ["--iterations"], words: ["discovery", "e2e", "otel", "all"]);
if (cli.Exit is { } exit)
{
    return exit;
}

var mode = cli.Word ?? "all";
var iterations = cli.Number("--iterations", 200);

if (mode is "discovery" or "all")
{
    var config = ManualConfig.CreateMinimumViable()
        .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
        .WithOptions(ConfigOptions.DisableOptimizationsValidator);
    BenchmarkRunner.Run<DiscoveryBenchmarks>(config);
}

if (mode is "e2e" or "otel" or "all")
{
    await using var e2e = new EndToEnd();
    if (mode == "otel")
    {
        await e2e.RunTelemetryAsync(iterations * 10);
    }
    else
    {
        await e2e.RunAsync(iterations);
    }

    Console.WriteLine();
    Console.WriteLine($"End to end ({iterations} iterations; ratio = p50 / baseline p50, or throughput / baseline throughput):");
    foreach (var r in e2e.Results)
    {
        Console.WriteLine($"- {r.Name}: p50 {r.Median}, p99 {r.P99}");
        Console.WriteLine($"    baseline {r.BaselineName}: p50 {r.BaselineMedian}, p99 {r.BaselineP99}");
        Console.WriteLine($"    ratio {r.Ratio:0.00}×   target: {r.Target}");
    }
}

return 0;
