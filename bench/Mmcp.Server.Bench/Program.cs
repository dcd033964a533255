using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mmcp.Server;
using Mmcp.Server.Bench.Server;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// Usage: Mmcp.Server.Bench [--runs N] [--calls N] [--no-aot]
// 1. Startup to first call: start the server process, connect to its socket as soon as it exists, initialize and call
//    "echo"; generated registration versus the SDK's WithToolsFromAssembly(), alternating, JIT and NativeAOT.
// 2. In-process calls: the same tool ("add") through generated primitives and through the SDK's reflection-based ones.
// Every result is printed with its ratio against the baseline measured in the same run.
var cli = Bench.BenchArgs.Parse(args, """
    Usage: Mmcp.Server.Bench [--runs N] [--calls N] [--no-aot]
      --runs N     server starts measured per variant (default 15)
      --calls N    in-process calls measured per variant (default 5000)
      --no-aot     skip the NativeAOT publish and its startup
      -h, --help   this text
    """, numbers: ["--runs", "--calls"], switches: ["--no-aot"]);
if (cli.Exit is { } exit)
{
    return exit;
}

var runs = cli.Number("--runs", 15);
var calls = cli.Number("--calls", 5000);
var repo = RepoRoot();
var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
var jitServer = Path.Combine(repo, "bench", "Mmcp.Server.Bench.Server", "bin", configuration, "net10.0", "Mmcp.Server.Bench.Server");
if (!File.Exists(jitServer))
{
    Console.Error.WriteLine($"missing {jitServer}: build the solution first");
    return 2;
}

Console.WriteLine($"# {DateTime.UtcNow:O} cores={Environment.ProcessorCount} runs={runs} calls={calls} ({configuration})");
var startup = new List<(string Name, Stats Stats)>();

await MeasurePair("JIT", jitServer);
if (!cli.Has("--no-aot"))
{
    var aotServer = await PublishAotAsync();
    if (aotServer is not null)
    {
        await MeasurePair("AOT", aotServer);
    }
}

Console.WriteLine();
Console.WriteLine("startup to first call (ms)   median      p90      min");
foreach (var (name, stats) in startup)
{
    Console.WriteLine($"{name,-28} {stats.Median,7:F1} {stats.P90,8:F1} {stats.Min,8:F1}");
}

Console.WriteLine();
Ratio("generated / reflection, JIT", "JIT generated", "JIT reflection");
Ratio("generated / reflection, AOT", "AOT generated", "AOT reflection");
Ratio("AOT generated / JIT generated", "AOT generated", "JIT generated");
Ratio("AOT generated / JIT reflection", "AOT generated", "JIT reflection");

Console.WriteLine();
var generatedRate = await InProcessCallsPerSecond(b => b.WithTools(MmcpServerDefinition.Of<BenchTools>().CreateTools()));
var reflectionRate = await InProcessCallsPerSecond(b => b.WithTools<BenchTools>());
Console.WriteLine($"in-process tools/call 'add'   generated {generatedRate,8:F0}/s   reflection {reflectionRate,8:F0}/s   ratio {generatedRate / reflectionRate:F2}");
return 0;

async Task MeasurePair(string label, string server)
{
    var generated = new List<double>();
    var reflection = new List<double>();
    for (var i = -2; i < runs; i++)
    {
        // Alternate the two so that drift on a shared machine hits both alike; the first two pairs warm the disk cache.
        var g = await StartToFirstCallAsync(server, []);
        var r = await StartToFirstCallAsync(server, ["--reflection"]);
        if (i >= 0)
        {
            generated.Add(g);
            reflection.Add(r);
        }
    }

    startup.Add(($"{label} generated", Stats.Of(generated)));
    startup.Add(($"{label} reflection", Stats.Of(reflection)));
}

void Ratio(string title, string candidate, string baseline)
{
    var c = startup.FirstOrDefault(s => s.Name == candidate).Stats;
    var b = startup.FirstOrDefault(s => s.Name == baseline).Stats;
    if (c is not null && b is not null)
    {
        Console.WriteLine($"{title,-32} {c.Median / b.Median:F2}");
    }
}

static async Task<double> StartToFirstCallAsync(string server, string[] extraArgs)
{
    var root = Directory.CreateTempSubdirectory("sb-").FullName;
    try
    {
        var start = new ProcessStartInfo(server, extraArgs) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["MMCP_RUNTIME_DIR"] = Path.Combine(root, "run");
        start.Environment["MMCP_REGISTRY_PATH"] = Path.Combine(root, "reg");
        var socketPath = Path.Combine(root, "run", "io.mmcp.bench.startup.sock");
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        try
        {
            var socket = await ConnectWhenListeningAsync(socketPath, process);
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            await using (var client = await McpClient.CreateAsync(new StreamClientTransport(stream, stream), new McpClientOptions { ClientInfo = new Implementation { Name = "bench", Version = "1" } }))
            {
                var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["text"] = "hi" });
                if (result.IsError == true || ((TextContentBlock)result.Content[0]).Text != "hi")
                {
                    throw new InvalidOperationException("unexpected echo result");
                }
            }

            return clock.Elapsed.TotalMilliseconds;
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
    finally
    {
        Directory.Delete(root, recursive: true);
    }
}

static async Task<Socket> ConnectWhenListeningAsync(string socketPath, Process process)
{
    // Polling is the measurement here: the server is ready when its socket accepts a connection.
    while (true)
    {
        if (process.HasExited)
        {
            throw new InvalidOperationException($"server exited with {process.ExitCode}: {await process.StandardError.ReadToEndAsync()}");
        }

        if (File.Exists(socketPath))
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
                return socket;
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
        }

        await Task.Delay(1);
    }
}

async Task<string?> PublishAotAsync()
{
    var output = Path.Combine(repo, "artifacts", "bench", "server-aot");
    var project = Path.Combine(repo, "bench", "Mmcp.Server.Bench.Server", "Mmcp.Server.Bench.Server.csproj");
    Console.WriteLine($"publishing {project} as NativeAOT into {output} ...");
    var start = new ProcessStartInfo("dotnet", ["publish", project, "-c", "Release", "-r", "linux-x64", "-o", output, "--artifacts-path", Path.Combine(repo, "artifacts", "bench", "obj"), "-nologo", "--disable-build-servers"])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };
    using var publish = Process.Start(start)!;
    var log = publish.StandardOutput.ReadToEndAsync();
    var errors = publish.StandardError.ReadToEndAsync();
    await publish.WaitForExitAsync();
    if (publish.ExitCode != 0)
    {
        Console.WriteLine($"NativeAOT publish failed ({publish.ExitCode}); AOT numbers skipped:{Environment.NewLine}{await log}{await errors}");
        return null;
    }

    return Path.Combine(output, "Mmcp.Server.Bench.Server");
}

async Task<double> InProcessCallsPerSecond(Action<IMcpServerBuilder> register)
{
    var services = new ServiceCollection();
    services.AddLogging();
    register(services.AddMcpServer(o => o.ServerInfo = new Implementation { Name = "bench", Version = "1" }));
    await using var provider = services.BuildServiceProvider();
    var options = provider.GetRequiredService<IOptions<McpServerOptions>>().Value;
    Pipe toServer = new(), toClient = new();
    await using var server = McpServer.Create(new StreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream()), options, serviceProvider: provider);
    var run = server.RunAsync();
    await using var client = await McpClient.CreateAsync(new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream()));
    var arguments = new Dictionary<string, object?> { ["a"] = 20, ["b"] = 22 };
    for (var i = 0; i < 500; i++)
    {
        await client.CallToolAsync("add", arguments);
    }

    var clock = Stopwatch.StartNew();
    for (var i = 0; i < calls; i++)
    {
        var result = await client.CallToolAsync("add", arguments);
        if (((TextContentBlock)result.Content[0]).Text != "42")
        {
            throw new InvalidOperationException("unexpected add result");
        }
    }

    return calls / clock.Elapsed.TotalSeconds;
}

static string RepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Atlas.slnx")))
        {
            return dir.FullName;
        }
    }

    throw new InvalidOperationException("Atlas.slnx not found");
}

internal sealed record Stats(double Median, double P90, double Min)
{
    public static Stats Of(List<double> samples)
    {
        var sorted = samples.Order().ToList();
        return new Stats(sorted[sorted.Count / 2], sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(sorted.Count * 0.9) - 1)], sorted[0]);
    }
}
