using System.Diagnostics;
using System.Globalization;
using Mmcp.Gateway.Bench;

// Usage: Mmcp.Gateway.Bench [--calls N] [--rounds R] [--concurrency C] [--warmup W] [--only a,b,c] [--context-only]
// Latency phase: starts every target fronting @modelcontextprotocol/server-everything over stdio and warms each one;
// then measures tools/call "echo" with the same raw client, sequentially in R rounds that go through the targets in
// turn (so a slow spell of a shared machine falls on every target, not on one), then with C parallel callers with a
// session each. Prints the table and the ratios of the Mmcp gateway against the better of mcp-proxy and supergateway
// in each round (median and range over the rounds).
// Context phase (always last; alone with --context-only): the size of the tool definitions a client holds through
// `mmcp serve` fronting several reference servers, with every tool listed and in search mode (see ContextPhase.cs).
var calls = IntArg("--calls", 2000);
var rounds = Math.Max(1, IntArg("--rounds", 3));
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
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5), UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
if (contextOnly)
{
    return await ContextPhase.RunAsync(repo, node, http);
}

var targets = new List<Target>();
var peers = new List<IDisposable>();
async Task AddTarget(string name, Func<int, (string Command, string[] Args, Dictionary<string, string>? Env)> start, Func<int, Func<Task<ICaller>>> callerFactory)
{
    if (only is not null && !only.Contains(name))
    {
        return;
    }

    var port = BenchEnvironment.FreePort();
    var (command, args, env) = start(port);
    peers.Add(await Peer.StartAsync(name, command, args, env, port));
    targets.Add(new Target(name, callerFactory(port), SharedCaller: false));
}

Console.WriteLine($"# {DateTime.UtcNow:O} cores={Environment.ProcessorCount} calls={calls}x{rounds} rounds concurrency={concurrency} warmup={warmup} tool=echo (server-everything over stdio)");

// (a) No gateway: the same server over stdio, for reference.
if (only is null || only.Contains("stdio-direct"))
{
    targets.Add(new Target("stdio-direct", async () =>
    {
        var c = new RawStdioClient(node, [everything, "stdio"]);
        await c.InitializeAsync(CancellationToken.None);
        return new StdioCaller(c);
    }, SharedCaller: true));
}

await AddTarget("supergateway", port => (node, [Path.Combine(npm, ".bin", "supergateway"), "--stdio", $"{node} {everything} stdio", "--outputTransport", "streamableHttp", "--stateful", "--port", port.ToString(CultureInfo.InvariantCulture), "--logLevel", "none"], null),
    port => McpCaller(port, "/mcp", "echo"));
await AddTarget("mcp-proxy", port => (node, [Path.Combine(npm, ".bin", "mcp-proxy"), "--port", port.ToString(CultureInfo.InvariantCulture), "--host", "127.0.0.1", "--server", "stream", "--", node, everything, "stdio"], null),
    port => McpCaller(port, "/mcp", "echo"));

// The Mmcp gateway: `mmcp serve` over a private registry holding one stdio manifest for server-everything.
var mmcp = Path.Combine(repo, "src", "Mmcp.Cli", "bin", "Release", "net10.0", "mmcp.dll");
using var home = new GatewayHome();
if (File.Exists(mmcp))
{
    home.Add(GatewayHome.StdioManifest("io.bench.everything", "MCP reference server", node, [everything, "stdio"]));
    (string, string[], Dictionary<string, string>?) Serve(int port) => ("dotnet", GatewayHome.ServeArgs(mmcp, port), home.Environment);
    await AddTarget("mmcp /mcp", Serve, port => McpCaller(port, "/mcp", "io_bench_everything__echo"));
    await AddTarget("mmcp /servers/{id}/mcp", Serve, port => McpCaller(port, "/servers/io.bench.everything/mcp", "echo"));
    await AddTarget("mmcp REST", Serve, port => () => Task.FromResult<ICaller>(new RestCaller(new RawRestClient(http, new Uri($"http://127.0.0.1:{port}/mcp/tools/call")))));

    // Pass-through sessions over the hub's shared connection instead of an upstream process each.
    await AddTarget("mmcp /servers shared", port => ("dotnet", GatewayHome.ServeArgs(mmcp, port, "--shared-upstream"), home.Environment), port => McpCaller(port, "/servers/io.bench.everything/mcp", "echo"));
}
else
{
    Console.WriteLine($"# mmcp gateway skipped: {mmcp} not built (dotnet build -c Release src/Mmcp.Cli)");
}

try
{
    // Warm every target, then the sequential rounds, then the parallel phase.
    var firsts = new List<ICaller>();
    foreach (var target in targets)
    {
        var first = await target.NewCaller();
        firsts.Add(first);
        for (var i = 0; i < warmup; i++)
        {
            await first.CallAsync();
        }
    }

    var sequential = targets.Select(_ => new List<(double[] Samples, double Seconds)>()).ToList();
    for (var round = 0; round < rounds; round++)
    {
        for (var t = 0; t < targets.Count; t++)
        {
            sequential[t].Add(await MeasureSequential(firsts[t]));
        }
    }

    Console.WriteLine(Result.Header);
    var results = new List<Result>();
    for (var t = 0; t < targets.Count; t++)
    {
        var (parallel, parallelSeconds) = await MeasureParallel(targets[t], firsts[t]);
        var all = sequential[t].SelectMany(r => r.Samples).ToArray();
        var result = new Result(targets[t].Name, Stats.Of(all), all.Length / sequential[t].Sum(r => r.Seconds), Stats.Of(parallel), calls / parallelSeconds, [.. sequential[t].Select(r => Stats.Of(r.Samples).P50)]);
        results.Add(result);
        Console.WriteLine(result.Format());
        await firsts[t].DisposeAsync();
    }

    Report(results);
}
finally
{
    foreach (var peer in peers)
    {
        peer.Dispose();
    }
}

return await ContextPhase.RunAsync(repo, node, http);

Func<Task<ICaller>> McpCaller(int port, string path, string tool) => async () =>
{
    var client = new RawMcpHttpClient(http, new Uri($"http://127.0.0.1:{port}{path}"));
    await client.InitializeAsync(CancellationToken.None);
    return new HttpCaller(client, tool);
};

async Task<(double[] Samples, double Seconds)> MeasureSequential(ICaller caller)
{
    var samples = new double[calls];
    var sw = Stopwatch.StartNew();
    for (var i = 0; i < calls; i++)
    {
        var t0 = Stopwatch.GetTimestamp();
        await caller.CallAsync();
        samples[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    return (samples, sw.Elapsed.TotalSeconds);
}

async Task<(double[] Samples, double Seconds)> MeasureParallel(Target target, ICaller first)
{
    var callers = target.SharedCaller ? Enumerable.Repeat(first, concurrency).ToArray() : await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => target.NewCaller()));
    foreach (var caller in callers.Distinct())
    {
        await caller.CallAsync();
    }

    var samples = new double[calls];
    var next = -1;
    var sw = Stopwatch.StartNew();
    await Task.WhenAll(callers.Select(async caller =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < calls)
        {
            var t0 = Stopwatch.GetTimestamp();
            await caller.CallAsync();
            samples[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
    }));
    var seconds = sw.Elapsed.TotalSeconds;
    if (!target.SharedCaller)
    {
        foreach (var caller in callers)
        {
            await caller.DisposeAsync();
        }
    }

    return (samples, seconds);
}

void Report(List<Result> all)
{
    var peerResults = all.Where(r => r.Name is "supergateway" or "mcp-proxy").ToList();
    if (peerResults.Count == 0 || !all.Any(r => r.Name.StartsWith("mmcp", StringComparison.Ordinal)))
    {
        return;
    }

    var bestThroughput = peerResults.MaxBy(r => r.ParallelRate)!;
    Console.WriteLine();
    Console.WriteLine($"# ratios against the better peer (targets: p50 <= 0.50x, {concurrency}-way throughput >= 2.00x); p50 ratio per round against that round's better peer: median [min-max] of {rounds}");
    foreach (var r in all.Where(r => r.Name.StartsWith("mmcp", StringComparison.Ordinal)))
    {
        var perRound = Enumerable.Range(0, rounds).Select(i => r.RoundP50s[i] / peerResults.Min(p => p.RoundP50s[i])).Order().ToArray();
        var bestP50 = peerResults.MinBy(p => p.Sequential.P50)!;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Name,-24} p50 {perRound[perRound.Length / 2]:0.00}x [{perRound[0]:0.00}-{perRound[^1]:0.00}] (all rounds: {r.Sequential.P50:0.000} ms vs {bestP50.Name} {bestP50.Sequential.P50:0.000} ms)   {concurrency}-way throughput {r.ParallelRate / bestThroughput.ParallelRate:0.00}x of {bestThroughput.Name} ({bestThroughput.ParallelRate:0} calls/s)"));
    }
}

int IntArg(string name, int fallback) => StringArg(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

string? StringArg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
