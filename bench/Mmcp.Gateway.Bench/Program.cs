using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Mmcp.Gateway.Bench;

// Usage: Mmcp.Gateway.Bench [--calls N] [--concurrency C] [--warmup W] [--only a,b,c] [--context-only]
// Latency phase: starts each target fronting @modelcontextprotocol/server-everything over stdio, measures tools/call
// "echo" with the same raw client (sequential, then C parallel callers with a session each), and prints the table and
// the ratios of the Mmcp gateway against the better of mcp-proxy and supergateway, measured in the same run.
// Context phase (always last; alone with --context-only): the size of the tool definitions a client holds through
// `mmcp serve` fronting several reference servers, with every tool listed and in search mode (see ContextPhase.cs).
var calls = IntArg("--calls", 2000);
var concurrency = IntArg("--concurrency", 16);
var warmup = IntArg("--warmup", 2000); // every target (and Node's and .NET's JIT) is measured warm
var only = StringArg("--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
var contextOnly = args.Contains("--context-only");
var repo = BenchEnvironment.RepoRoot();
var npm = Path.Combine(repo, "eng", "npm", "node_modules");
var everything = Path.Combine(npm, "@modelcontextprotocol", "server-everything", "dist", "index.js");
if (!File.Exists(everything))
{
    Console.Error.WriteLine($"missing {everything}: run ./eng/install-deps.sh first");
    return 2;
}

var node = "node";
var results = new List<Result>();
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5), UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
if (contextOnly)
{
    return await ContextPhase.RunAsync(repo, node, http);
}

async Task RunTarget(string name, Func<int, (string Command, string[] Args, Dictionary<string, string>? Env)> start, Func<int, Func<Task<ICaller>>> callerFactory)
{
    if (only is not null && !only.Contains(name))
    {
        return;
    }

    var port = BenchEnvironment.FreePort();
    var (command, args, env) = start(port);
    using var peer = await Peer.StartAsync(name, command, args, env, port);
    var result = await Measure(name, callerFactory(port));
    results.Add(result);
    Console.WriteLine(result.Format());
}

Console.WriteLine($"# {DateTime.UtcNow:O} cores={Environment.ProcessorCount} calls={calls} concurrency={concurrency} warmup={warmup} tool=echo (server-everything over stdio)");
Console.WriteLine(Result.Header);

// (a) No gateway: the same server over stdio, for reference.
if (only is null || only.Contains("stdio-direct"))
{
    var direct = await Measure("stdio-direct", async () =>
    {
        var c = new RawStdioClient(node, [everything, "stdio"]);
        await c.InitializeAsync(CancellationToken.None);
        return new StdioCaller(c);
    }, sharedCaller: true);
    results.Add(direct);
    Console.WriteLine(direct.Format());
}

await RunTarget("supergateway", port => (node, [Path.Combine(npm, ".bin", "supergateway"), "--stdio", $"{node} {everything} stdio", "--outputTransport", "streamableHttp", "--stateful", "--port", port.ToString(CultureInfo.InvariantCulture), "--logLevel", "none"], null),
    port => McpCaller(port, "/mcp", "echo"));
await RunTarget("mcp-proxy", port => (node, [Path.Combine(npm, ".bin", "mcp-proxy"), "--port", port.ToString(CultureInfo.InvariantCulture), "--host", "127.0.0.1", "--server", "stream", "--", node, everything, "stdio"], null),
    port => McpCaller(port, "/mcp", "echo"));

// The Mmcp gateway: `mmcp serve` over a private registry holding one stdio manifest for server-everything.
var mmcp = Path.Combine(repo, "src", "Mmcp.Cli", "bin", "Release", "net10.0", "mmcp.dll");
if (File.Exists(mmcp))
{
    using var home = new GatewayHome();
    home.Add(GatewayHome.StdioManifest("io.bench.everything", "MCP reference server", node, [everything, "stdio"]));
    (string, string[], Dictionary<string, string>?) Serve(int port) => ("dotnet", GatewayHome.ServeArgs(mmcp, port), home.Environment);
    await RunTarget("mmcp /mcp", Serve, port => McpCaller(port, "/mcp", "io_bench_everything__echo"));
    await RunTarget("mmcp /servers/{id}/mcp", Serve, port => McpCaller(port, "/servers/io.bench.everything/mcp", "echo"));
    await RunTarget("mmcp REST", Serve, port => () => Task.FromResult<ICaller>(new RestCaller(new RawRestClient(http, new Uri($"http://127.0.0.1:{port}/mcp/tools/call")))));
}
else
{
    Console.WriteLine($"# mmcp gateway skipped: {mmcp} not built (dotnet build -c Release src/Mmcp.Cli)");
}

Report(results);
return await ContextPhase.RunAsync(repo, node, http);

Func<Task<ICaller>> McpCaller(int port, string path, string tool) => async () =>
{
    var client = new RawMcpHttpClient(http, new Uri($"http://127.0.0.1:{port}{path}"));
    await client.InitializeAsync(CancellationToken.None);
    return new HttpCaller(client, tool);
};

async Task<Result> Measure(string name, Func<Task<ICaller>> newCaller, bool sharedCaller = false)
{
    var payload = new JsonObject { ["message"] = "ping" };
    await using var first = await newCaller();
    for (var i = 0; i < warmup; i++)
    {
        await first.CallAsync();
    }

    var sequential = new double[calls];
    var sw = Stopwatch.StartNew();
    for (var i = 0; i < calls; i++)
    {
        var t0 = Stopwatch.GetTimestamp();
        await first.CallAsync();
        sequential[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    var sequentialSeconds = sw.Elapsed.TotalSeconds;
    var callers = sharedCaller ? Enumerable.Repeat(first, concurrency).ToArray() : await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => newCaller()));
    foreach (var caller in callers.Distinct())
    {
        await caller.CallAsync();
    }

    var parallel = new double[calls];
    var next = -1;
    sw.Restart();
    await Task.WhenAll(callers.Select(async caller =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < calls)
        {
            var t0 = Stopwatch.GetTimestamp();
            await caller.CallAsync();
            parallel[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
    }));
    var parallelSeconds = sw.Elapsed.TotalSeconds;
    if (!sharedCaller)
    {
        foreach (var caller in callers)
        {
            await caller.DisposeAsync();
        }
    }

    return new Result(name, Stats.Of(sequential), calls / sequentialSeconds, Stats.Of(parallel), calls / parallelSeconds);
}

void Report(List<Result> all)
{
    var peers = all.Where(r => r.Name is "supergateway" or "mcp-proxy").ToList();
    var gateway = all.FirstOrDefault(r => r.Name == "mmcp /mcp");
    if (peers.Count == 0 || gateway is null)
    {
        return;
    }

    var bestP50 = peers.MinBy(r => r.Sequential.P50)!;
    var bestThroughput = peers.MaxBy(r => r.ParallelRate)!;
    Console.WriteLine();
    Console.WriteLine($"# ratios against the better peer in this run (targets: p50 <= 0.50x, {concurrency}-way throughput >= 2.00x)");
    foreach (var r in all.Where(r => r.Name.StartsWith("mmcp", StringComparison.Ordinal)))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Name,-24} p50 {r.Sequential.P50 / bestP50.Sequential.P50:0.00}x of {bestP50.Name} ({bestP50.Sequential.P50:0.000} ms)   {concurrency}-way throughput {r.ParallelRate / bestThroughput.ParallelRate:0.00}x of {bestThroughput.Name} ({bestThroughput.ParallelRate:0} calls/s)"));
    }
}

int IntArg(string name, int fallback) => StringArg(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

string? StringArg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
