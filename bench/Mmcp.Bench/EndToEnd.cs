using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Mmcp.Client;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Mmcp.TestServer;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Bench;

/// <summary>End-to-end measurements against real servers, each with its baseline from the same run.</summary>
internal sealed class EndToEnd : IAsyncDisposable
{
    private static readonly Dictionary<string, object?> EchoArgs = new() { ["text"] = "ping" };
    private readonly string _root = Directory.CreateTempSubdirectory("mb-").FullName;
    private readonly MmcpEnvironment _env;
    private readonly string _registry;
    private IHost? _server;
    private string _socket = string.Empty;

    public EndToEnd()
    {
        _registry = Directory.CreateDirectory(Path.Combine(_root, "reg")).FullName;
        var runtime = Path.Combine(_root, "run");
        var variables = new Dictionary<string, string> { ["MMCP_RUNTIME_DIR"] = runtime, ["MMCP_REGISTRY_PATH"] = _registry, ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin" };
        _env = new MmcpEnvironment(n => variables.GetValueOrDefault(n), _root, _root);
    }

    public List<Result> Results { get; } = [];

    public async Task RunAsync(int iterations)
    {
        await StartInProcessServerAsync();
        await ConnectAndFirstCallAsync(iterations);
        await CallOverheadAsync(iterations * 10);
        await SocketVersusStdioAsync(iterations * 10);
    }

    /// <summary>Only the OpenTelemetry on/off comparison of warm hub calls (mode <c>otel</c>).</summary>
    public async Task RunTelemetryAsync(int calls)
    {
        await StartInProcessServerAsync();
        await using var hub = MmcpHub.Create(Options());
        Results.Add(await TelemetryOverhead.MeasureAsync(() => hub.CallToolAsync("io.bench.socket", "echo", EchoArgs).AsTask(), calls));
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.StopAsync();
            _server.Dispose();
        }

        Directory.Delete(_root, recursive: true);
    }

    private async Task StartInProcessServerAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddMmcpServerFromAttribute<TestTools>(o =>
            {
                o.Environment = _env;
                o.RegisterManifest = false;
                o.SocketPath = "bench.sock";
            })
            .WithTools<TestTools>();
        _server = builder.Build();
        await _server.StartAsync();
        _socket = RegistryPaths.ResolveSocketPath("bench.sock", _env);
        await ManifestWriter.WriteFileAsync(Manifest("io.bench.socket", new SocketTransport { Path = _socket }), Path.Combine(_registry, "io.bench.socket.json"));
    }

    /// <summary>Discover + connect + first call through a fresh hub, against a fresh bare SDK client (socket connect + handshake + call).</summary>
    private async Task ConnectAndFirstCallAsync(int iterations)
    {
        var bare = await MeasureAsync(iterations, async () =>
        {
            var sw = Stopwatch.StartNew();
            var (client, stream) = await ConnectBareAsync();
            await client.CallToolAsync("echo", EchoArgs);
            var elapsed = sw.Elapsed;
            await client.DisposeAsync();
            await stream.DisposeAsync();
            return elapsed;
        });
        var hub = await MeasureAsync(iterations, async () =>
        {
            var sw = Stopwatch.StartNew();
            var h = MmcpHub.Create(Options());
            await h.DiscoverServersAsync();
            await h.CallToolAsync("io.bench.socket", "echo", EchoArgs);
            var elapsed = sw.Elapsed;
            await h.DisposeAsync();
            return elapsed;
        });
        Results.Add(new Result("discover + connect + first call (socket, in-process server)", "bare SDK connect + handshake + call", hub, bare, "p50 ≤ 10 ms"));
    }

    /// <summary>Warm calls: the hub's CallToolAsync against a bare SDK client on the same kind of connection.</summary>
    private async Task CallOverheadAsync(int calls)
    {
        var (client, stream) = await ConnectBareAsync();
        await using var hub = MmcpHub.Create(Options());
        await hub.CallToolAsync("io.bench.socket", "echo", EchoArgs);
        await client.CallToolAsync("echo", EchoArgs);

        // Interleave rounds so drift on a shared machine hits both alike.
        var bare = new List<double>();
        var viaHub = new List<double>();
        for (var round = 0; round < 5; round++)
        {
            bare.AddRange(await MeasureAsync(calls / 5, async () =>
            {
                var sw = Stopwatch.StartNew();
                await client.CallToolAsync("echo", EchoArgs);
                return sw.Elapsed;
            }));
            viaHub.AddRange(await MeasureAsync(calls / 5, async () =>
            {
                var sw = Stopwatch.StartNew();
                await hub.CallToolAsync("io.bench.socket", "echo", EchoArgs);
                return sw.Elapsed;
            }));
        }

        await client.DisposeAsync();
        await stream.DisposeAsync();
        Results.Add(new Result("hub CallToolAsync, warm (socket)", "bare SDK McpClient.CallToolAsync, warm (socket)", viaHub, bare, "≤ 1.1×"));
    }

    /// <summary>The same server (Mmcp.TestServer) as a separate process over its Unix socket and over stdio, through the hub.</summary>
    private async Task SocketVersusStdioAsync(int calls)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Mmcp.TestServer.dll");
        var socket = RegistryPaths.ResolveSocketPath("proc.sock", _env);
        await ManifestWriter.WriteFileAsync(Manifest("io.bench.stdio", new StdioTransport { Command = "dotnet", Args = [dll, "stdio"] }), Path.Combine(_registry, "io.bench.stdio.json"));
        await ManifestWriter.WriteFileAsync(
            Manifest("io.bench.process", new SocketTransport { Path = socket }),
            Path.Combine(_registry, "io.bench.process.json"));
        using var process = Process.Start(new ProcessStartInfo("dotnet", [dll, "socket", "--socket", socket]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        try
        {
            while (!(await process.StandardError.ReadLineAsync() ?? throw new InvalidOperationException("the socket server exited")).StartsWith("ready", StringComparison.Ordinal))
            {
            }

            _ = process.StandardError.ReadToEndAsync();
            await using var hub = MmcpHub.Create(Options());
            await hub.CallToolAsync("io.bench.process", "echo", EchoArgs);
            await hub.CallToolAsync("io.bench.stdio", "echo", EchoArgs);
            var viaSocket = new List<double>();
            var viaStdio = new List<double>();
            for (var round = 0; round < 5; round++)
            {
                viaSocket.AddRange(await MeasureAsync(calls / 5, async () =>
                {
                    var sw = Stopwatch.StartNew();
                    await hub.CallToolAsync("io.bench.process", "echo", EchoArgs);
                    return sw.Elapsed;
                }));
                viaStdio.AddRange(await MeasureAsync(calls / 5, async () =>
                {
                    var sw = Stopwatch.StartNew();
                    await hub.CallToolAsync("io.bench.stdio", "echo", EchoArgs);
                    return sw.Elapsed;
                }));
            }

            Results.Add(new Result("call latency over stdio (separate process)", "call latency over the Unix socket (same server)", viaStdio, viaSocket, "informational"));
            var socketThroughput = await ThroughputAsync(hub, "io.bench.process", calls);
            var stdioThroughput = await ThroughputAsync(hub, "io.bench.stdio", calls);
            Results.Add(Result.Throughput("16-way throughput over stdio", "16-way throughput over the Unix socket", stdioThroughput, socketThroughput));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<double> ThroughputAsync(MmcpHub hub, string serverId, int calls)
    {
        var remaining = calls;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                await hub.CallToolAsync(serverId, "echo", EchoArgs);
            }
        }));
        return calls / sw.Elapsed.TotalSeconds;
    }

    private async Task<(McpClient Client, NetworkStream Stream)> ConnectBareAsync()
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await s.ConnectAsync(new UnixDomainSocketEndPoint(_socket));
        var stream = new NetworkStream(s, ownsSocket: true);
        var client = await McpClient.CreateAsync(new StreamClientTransport(stream, stream), new McpClientOptions { ClientInfo = new Implementation { Name = "bench", Version = "1" } });
        return (client, stream);
    }

    private MmcpHubOptions Options() => new()
    {
        Registry = new RegistryOptions { Environment = _env, ImportClientConfigs = false },
        WatchRegistry = false,
        PersistToolCache = false,
    };

    private static ServerManifest Manifest(string id, ServerTransport transport) => new()
    {
        Id = id,
        Name = id,
        Description = "Benchmark server",
        Version = "1.0.0",
        Transport = transport,
    };

    internal static async Task<List<double>> MeasureAsync(int iterations, Func<Task<TimeSpan>> once)
    {
        for (var i = 0; i < Math.Max(5, iterations / 10); i++)
        {
            await once(); // warm-up
        }

        var samples = new List<double>(iterations);
        for (var i = 0; i < iterations; i++)
        {
            samples.Add((await once()).TotalMilliseconds);
        }

        return samples;
    }
}

/// <summary>One measurement and its baseline.</summary>
internal sealed record Result(string Name, string BaselineName, string Median, string P99, string BaselineMedian, string BaselineP99, double Ratio, string Target)
{
    public Result(string name, string baselineName, List<double> samples, List<double> baseline, string target)
        : this(name, baselineName, Ms(Percentile(samples, 0.5)), Ms(Percentile(samples, 0.99)), Ms(Percentile(baseline, 0.5)), Ms(Percentile(baseline, 0.99)), Percentile(samples, 0.5) / Percentile(baseline, 0.5), target)
    {
    }

    public static Result Throughput(string name, string baselineName, double callsPerSecond, double baselineCallsPerSecond) =>
        new(name, baselineName, $"{callsPerSecond:0} calls/s", "-", $"{baselineCallsPerSecond:0} calls/s", "-", callsPerSecond / baselineCallsPerSecond, "informational");

    private static double Percentile(List<double> samples, double p)
    {
        var sorted = samples.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static string Ms(double ms) => ms.ToString("0.000", CultureInfo.InvariantCulture) + " ms";
}
