using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Mmcp.Gateway.Bench;

internal interface ICaller : IAsyncDisposable
{
    Task CallAsync();
}

internal sealed class HttpCaller(RawMcpHttpClient client, string tool) : ICaller
{
    public Task CallAsync() => client.CallToolAsync(tool, new JsonObject { ["message"] = "ping" }, CancellationToken.None);

    public ValueTask DisposeAsync() => client.DisposeAsync();
}

internal sealed class RestCaller(RawRestClient client) : ICaller
{
    public Task CallAsync() => client.CallToolAsync("io_mmcp_bench_everything__echo", new JsonObject { ["message"] = "ping" }, CancellationToken.None);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal sealed class StdioCaller(RawStdioClient client) : ICaller
{
    private int _disposed;

    public Task CallAsync() => client.CallToolAsync("echo", new JsonObject { ["message"] = "ping" }, CancellationToken.None);

    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _disposed, 1) == 0 ? client.DisposeAsync() : ValueTask.CompletedTask;
}

internal readonly record struct Stats(double P50, double P90, double P99, double Max, double Mean)
{
    public static Stats Of(double[] samples)
    {
        var sorted = samples.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new Stats(At(0.50), At(0.90), At(0.99), sorted[^1], sorted.Average());
    }
}

internal sealed record Result(string Name, Stats Sequential, double SequentialRate, Stats Parallel, double ParallelRate)
{
    public const string Header = "target                   | seq p50 ms | seq p90 | seq p99 | seq calls/s | par p50 ms | par p99 | par calls/s";

    public string Format() => string.Create(CultureInfo.InvariantCulture,
        $"{Name,-24} | {Sequential.P50,10:0.000} | {Sequential.P90,7:0.000} | {Sequential.P99,7:0.000} | {SequentialRate,11:0} | {Parallel.P50,10:0.000} | {Parallel.P99,7:0.000} | {ParallelRate,11:0}");
}

/// <summary>A peer process in its own process group, stopped with the whole group.</summary>
internal sealed class Peer : IDisposable
{
    private readonly Process _process;

    private Peer(Process process) => _process = process;

    public static async Task<Peer> StartAsync(string name, string command, string[] args, Dictionary<string, string>? env, int port)
    {
        var start = new ProcessStartInfo("setsid", [command, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in env ?? [])
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with {process.ExitCode}: {log}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return new Peer(process);
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"{name} did not listen on port {port} within 60 s: {log}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            // setsid made the peer a process-group leader: signal the whole group (it spawned server-everything).
            using var kill = Process.Start("kill", ["-TERM", "--", "-" + _process.Id.ToString(CultureInfo.InvariantCulture)]);
            kill?.WaitForExit();
            if (!_process.WaitForExit(3000))
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }
}
