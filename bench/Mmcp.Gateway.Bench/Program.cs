using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Mmcp.Gateway.Bench;

// Usage: Mmcp.Gateway.Bench [--calls N] [--rounds R] [--concurrency C] [--warmup W] [--only a,b,c] [--no-external]
//                           [--no-context] [--context-only] [--phases] [--mmcp path/to/mmcp.dll]
// Latency phase: starts every target fronting @modelcontextprotocol/server-everything over stdio and warms each one
// equally (W calls); then measures tools/call "echo" with the same raw client, sequentially in R rounds that go
// through the targets in turn (so a slow spell of a shared machine falls on every target, not on one), then with C
// parallel callers with a session each. Prints the table and the ratios of the Mmcp gateway against the raw stdio call
// and the better of mcp-proxy and supergateway, and against the floor of any HTTP gateway here (http-floor: Kestrel
// answering a fixed result, HttpFloor.cs; plus the raw stdio call) and a Kestrel relay that does no gateway work
// (stdio-relay: the call's bytes to the same stdio server and back, StdioRelay.cs), with each front's own CPU per call. Then the same from an external raw client (external-client.mjs: HTTP/1.1
// over Node's bare sockets and a child's stdio, none of the project's code) against every MCP target still running.
// --phases: where the time of one `/mcp` tools/call goes inside the gateway (MMCP_BENCH_PHASES, see LatencyProbe).
// Context phase (last; alone with --context-only, skipped with --no-context): the size of the tool definitions a
// client holds through `mmcp serve` fronting several reference servers, with every tool listed and in search mode.
const string Usage = """
    Usage: Mmcp.Gateway.Bench [options]
      --calls N          sequential calls measured per round and target (default 3000)
      --rounds R         rounds through the targets in turn, sequential, parallel and external (default 3)
      --concurrency C    parallel callers, a session each (default 16)
      --warmup W         warm-up calls for every target (default 3000)
      --only a,b,c       only these targets (e.g. "stdio-direct,supergateway,mcp-proxy,mmcp /mcp")
      --no-external      skip the external Node client
      --no-context       skip the context-size phase
      --context-only     only the context-size phase
      --phases           where the time of one /mcp tools/call goes inside the gateway
      --mmcp PATH        another build of mmcp.dll
      -h, --help         this text
    Exit codes: 0 done, 2 bad arguments or missing dependencies.
    """;
BenchEnvironment.InlineSocketCompletions();
if (args is [HttpFloor.Argument, var floorPort])
{
    return await HttpFloor.RunAsync(int.Parse(floorPort, CultureInfo.InvariantCulture));
}

if (args is [StdioRelay.Argument, var relayPort, var relayCommand, .. var relayArgs])
{
    return await StdioRelay.RunAsync(int.Parse(relayPort, CultureInfo.InvariantCulture), relayCommand, relayArgs);
}

var cli = Bench.BenchArgs.Parse(args, Usage, numbers: ["--calls", "--rounds", "--concurrency", "--warmup"], texts: ["--only", "--mmcp"],
    switches: ["--no-external", "--no-context", "--context-only", "--phases"]);
if (cli.Exit is { } exit)
{
    return exit;
}

var calls = cli.Number("--calls", 3000);
var rounds = Math.Max(1, cli.Number("--rounds", 3));
var concurrency = cli.Number("--concurrency", 16);
var warmup = cli.Number("--warmup", 3000); // every target (and Node's and .NET's JIT) is measured warm
var only = cli.Text("--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
var contextOnly = cli.Has("--context-only");
var noContext = cli.Has("--no-context");
var external = !cli.Has("--no-external");
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

var mmcp = cli.Text("--mmcp") ?? Path.Combine(repo, "src", "Mmcp.Cli", "bin", "Release", "net10.0", "mmcp.dll");
if (cli.Has("--phases"))
{
    return await PhasesAsync();
}

var targets = new List<Target>();
var peers = new List<IDisposable>();
async Task AddTarget(string name, Func<int, (string Command, string[] Args, Dictionary<string, string>? Env)> start, Func<int, Func<Task<ICaller>>> callerFactory, Func<int, string[]>? externalArgs = null)
{
    if (only is not null && !only.Contains(name))
    {
        return;
    }

    var port = BenchEnvironment.FreePort();
    var (command, args, env) = start(port);
    var peer = await Peer.StartAsync(name, command, args, env, port);
    peers.Add(peer);
    targets.Add(new Target(name, callerFactory(port), SharedCaller: false) { External = externalArgs?.Invoke(port), Process = peer });
}

Console.WriteLine($"# {DateTime.UtcNow:O} cores={Environment.ProcessorCount} calls={calls}x{rounds} rounds concurrency={concurrency} warmup={warmup} tool=echo (server-everything over stdio)");

// (a) No gateway: the same server over stdio, for reference.
if (only is null || only.Contains("stdio-direct"))
{
    async Task<ICaller> NewStdioCaller()
    {
        var c = new RawStdioClient(node, [everything, "stdio"]);
        await c.InitializeAsync(CancellationToken.None);
        return new StdioCaller(c);
    }

    targets.Add(new Target("stdio-direct", NewStdioCaller, SharedCaller: true) { External = ["--stdio", $"{node} {everything} stdio", "--tool", "echo"] });
}

// (b) The floor of an HTTP gateway here: Kestrel answering a fixed result, no MCP and no upstream (HttpFloor.cs).
await AddTarget("http-floor", port => ("dotnet", [typeof(HttpFloor).Assembly.Location, HttpFloor.Argument, port.ToString(CultureInfo.InvariantCulture)], null),
    port => McpCaller(port, "/mcp", "echo"), port => External(port, "/mcp", "echo"));
// (c) The floor of an HTTP gateway in front of this stdio server, in one process: Kestrel relaying bytes (StdioRelay.cs).
await AddTarget("stdio-relay", port => ("dotnet", [typeof(StdioRelay).Assembly.Location, StdioRelay.Argument, port.ToString(CultureInfo.InvariantCulture), node, everything, "stdio"], null),
    port => McpCaller(port, "/mcp", "echo"), port => External(port, "/mcp", "echo"));
await AddTarget("supergateway", port => (node, [Path.Combine(npm, ".bin", "supergateway"), "--stdio", $"{node} {everything} stdio", "--outputTransport", "streamableHttp", "--stateful", "--port", port.ToString(CultureInfo.InvariantCulture), "--logLevel", "none"], null),
    port => McpCaller(port, "/mcp", "echo"), port => External(port, "/mcp", "echo"));
await AddTarget("mcp-proxy", port => (node, [Path.Combine(npm, ".bin", "mcp-proxy"), "--port", port.ToString(CultureInfo.InvariantCulture), "--host", "127.0.0.1", "--server", "stream", "--", node, everything, "stdio"], null),
    port => McpCaller(port, "/mcp", "echo"), port => External(port, "/mcp", "echo"));

// The Mmcp gateway: `mmcp serve` over a private registry holding one stdio manifest for server-everything.
using var home = new GatewayHome();
if (File.Exists(mmcp))
{
    home.Add(GatewayHome.StdioManifest("io.bench.everything", "MCP reference server", node, [everything, "stdio"]));
    (string, string[], Dictionary<string, string>?) Serve(int port) => ("dotnet", GatewayHome.ServeArgs(mmcp, port), home.Environment);
    await AddTarget("mmcp /mcp", Serve, port => McpCaller(port, "/mcp", "io_bench_everything__echo"), port => External(port, "/mcp", "io_bench_everything__echo"));
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
    var cpu = new TimeSpan[targets.Count]; // each front's own process during its sequential rounds
    for (var round = 0; round < rounds; round++)
    {
        for (var t = 0; t < targets.Count; t++)
        {
            var before = targets[t].Process?.Cpu ?? TimeSpan.Zero;
            sequential[t].Add(await MeasureSequential(firsts[t]));
            cpu[t] += (targets[t].Process?.Cpu ?? TimeSpan.Zero) - before;
        }
    }

    // The parallel phase in rounds through the targets in turn too; a target's rate is the median of its rounds (a
    // phase of 3,000 calls lasts a fraction of a second, so one stall of a shared machine would decide a single one).
    var parallelRounds = targets.Select(_ => new List<(double[] Samples, double Seconds)>()).ToList();
    for (var round = 0; round < rounds; round++)
    {
        for (var t = 0; t < targets.Count; t++)
        {
            parallelRounds[t].Add(await MeasureParallel(targets[t], firsts[t]));
        }
    }

    Console.WriteLine(Result.Header);
    var results = new List<Result>();
    for (var t = 0; t < targets.Count; t++)
    {
        var all = sequential[t].SelectMany(r => r.Samples).ToArray();
        var result = new Result(targets[t].Name, Stats.Of(all), all.Length / sequential[t].Sum(r => r.Seconds), Stats.Of([.. parallelRounds[t].SelectMany(r => r.Samples)]), Median([.. parallelRounds[t].Select(r => calls / r.Seconds)]),
            [.. sequential[t].Select(r => Stats.Of(r.Samples).P50)], [.. parallelRounds[t].Select(r => calls / r.Seconds)]);
        results.Add(result);
        Console.WriteLine(result.Format());
        await firsts[t].DisposeAsync();
    }

    Console.WriteLine("# CPU per sequential call of each front's own process (user and system; its stdio server's not included; clock ticks of 10 ms over every round): "
        + string.Join(", ", Enumerable.Range(0, targets.Count).Where(t => targets[t].Process is not null)
            .Select(t => string.Create(CultureInfo.InvariantCulture, $"{targets[t].Name} {cpu[t].TotalMicroseconds / (calls * rounds):0} µs"))));
    Report("the bench's own raw client (.NET HttpClient, socket completions inline)", results);
    if (external)
    {
        // The same targets, still running and warm, measured by a client that is none of the project's code, in the
        // same rounds through the targets in turn (each run warms, then measures; a target's figures are the medians).
        Console.WriteLine();
        Console.WriteLine($"# external raw client: bench/Mmcp.Gateway.Bench/external-client.mjs ({node} {await NodeVersionAsync()}, HTTP/1.1 over a bare keep-alive socket per session, one write a request, Nagle off; stdio through a child's pipes), warmup={warmup} calls={calls} concurrency={concurrency}, {rounds} rounds (medians)");
        Console.WriteLine(Result.Header);
        var externalTargets = targets.Where(t => t.External is not null).ToList();
        var runs = externalTargets.Select(_ => new List<(double P50, double ParallelP50, double Rate)>()).ToList();
        for (var round = 0; round < rounds; round++)
        {
            for (var t = 0; t < externalTargets.Count; t++)
            {
                runs[t].Add(await RunExternalAsync(externalTargets[t].Name, externalTargets[t].External!));
            }
        }

        var externalResults = new List<Result>();
        for (var t = 0; t < externalTargets.Count; t++)
        {
            var p50 = Median([.. runs[t].Select(r => r.P50)]);
            var r = new Result(externalTargets[t].Name, Stats.Single(p50), 1000 / p50, Stats.Single(Median([.. runs[t].Select(r => r.ParallelP50)])), Median([.. runs[t].Select(r => r.Rate)]),
                [.. runs[t].Select(r => r.P50)], [.. runs[t].Select(r => r.Rate)]);
            externalResults.Add(r);
            Console.WriteLine(r.Format());
        }

        Report("the external raw client", externalResults);
    }
}
finally
{
    foreach (var peer in peers)
    {
        peer.Dispose();
    }
}

return noContext ? 0 : await ContextPhase.RunAsync(repo, node, http);

string[] External(int port, string path, string tool) => ["--url", $"http://127.0.0.1:{port}{path}", "--tool", tool];

async Task<string> NodeVersionAsync()
{
    using var p = Process.Start(new ProcessStartInfo(node, ["--version"]) { RedirectStandardOutput = true })!;
    var version = (await p.StandardOutput.ReadToEndAsync()).Trim();
    await p.WaitForExitAsync();
    return version;
}

async Task<(double P50, double ParallelP50, double Rate)> RunExternalAsync(string name, string[] targetArgs)
{
    var script = Path.Combine(repo, "bench", "Mmcp.Gateway.Bench", "external-client.mjs");
    var start = new ProcessStartInfo(node, [script, .. targetArgs, "--warmup", warmup.ToString(CultureInfo.InvariantCulture), "--calls", calls.ToString(CultureInfo.InvariantCulture), "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture)])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };
    using var p = Process.Start(start)!;
    var stderr = p.StandardError.ReadToEndAsync();
    var line = (await p.StandardOutput.ReadToEndAsync()).Trim();
    await p.WaitForExitAsync();
    if (p.ExitCode != 0 || JsonNode.Parse(line) is not JsonObject o)
    {
        throw new InvalidOperationException($"external client against {name} failed ({p.ExitCode}): {line} {await stderr}");
    }

    return (o["p50"]!.GetValue<double>(), o["parallelP50"]!.GetValue<double>(), o["parallelRate"]!.GetValue<double>());
}

static double Median(double[] values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

// Where the time of one /mcp tools/call goes inside the gateway: `mmcp serve` with MMCP_BENCH_PHASES, warmed, then
// the sequential calls; the gateway writes its table when it stops.
async Task<int> PhasesAsync()
{
    using var phasesHome = new GatewayHome();
    phasesHome.Add(GatewayHome.StdioManifest("io.bench.everything", "MCP reference server", node, [everything, "stdio"]));
    var report = Path.Combine(phasesHome.Root, "phases.md");
    var environment = new Dictionary<string, string>(phasesHome.Environment) { ["MMCP_BENCH_PHASES"] = report };
    var port = BenchEnvironment.FreePort();
    var samples = new double[calls];
    using (await Peer.StartAsync("mmcp /mcp (phases)", "dotnet", GatewayHome.ServeArgs(mmcp, port), environment, port))
    {
        await using var caller = await McpCaller(port, "/mcp", "io_bench_everything__echo")();
        for (var i = 0; i < warmup; i++)
        {
            await caller.CallAsync();
        }

        for (var i = 0; i < calls; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await caller.CallAsync();
            samples[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
    }

    Console.WriteLine($"# {DateTime.UtcNow:O} cores={Environment.ProcessorCount} phases of one /mcp tools/call (echo, server-everything over stdio), {calls} sequential calls after {warmup} warm-up calls");
    Console.WriteLine(File.Exists(report) ? await File.ReadAllTextAsync(report) : "(the gateway wrote no report)");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"client-observed p50: {Stats.Of(samples).P50:0.0} µs (the rest is the HTTP client, the loopback socket, Kestrel's parsing and routing)"));
    return 0;
}

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

void Report(string client, List<Result> all)
{
    var peerResults = all.Where(r => r.Name is "supergateway" or "mcp-proxy").ToList();
    var stdio = all.FirstOrDefault(r => r.Name == "stdio-direct");
    var floor = all.FirstOrDefault(r => r.Name == "http-floor");
    var relay = all.FirstOrDefault(r => r.Name == "stdio-relay");
    if (!all.Any(r => r.Name.StartsWith("mmcp", StringComparison.Ordinal)))
    {
        return;
    }

    Console.WriteLine();
    Console.WriteLine($"# ratios measured by {client}; targets: p50 <= 3.00x the raw stdio call and <= 0.50x the better peer, {concurrency}-way throughput >= 2.50x the better peer");
    var bestThroughput = peerResults.MaxBy(r => r.ParallelRate);
    var bestP50 = peerResults.MinBy(p => p.Sequential.P50);
    if (floor is not null && stdio is not null)
    {
        // Any gateway in front of a stdio server makes an HTTP hop and a stdio hop: it cannot answer sooner than both.
        var least = floor.Sequential.P50 + stdio.Sequential.P50;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"floor: http-floor {floor.Sequential.P50:0.000} ms + raw stdio {stdio.Sequential.P50:0.000} ms = {least:0.000} ms = {least / stdio.Sequential.P50:0.00}x raw stdio (no HTTP gateway in front of this server answers sooner on this machine{(least / stdio.Sequential.P50 > 3 ? "; the 3x target is below it here" : string.Empty)})"));
    }

    if (relay is not null && stdio is not null)
    {
        // The same hops and threads as a gateway (socket thread, server, reading thread) with none of its work.
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"relay: stdio-relay {relay.Sequential.P50:0.000} ms = {relay.Sequential.P50 / stdio.Sequential.P50:0.00}x raw stdio (Kestrel passing the call's bytes to this server and back, no gateway work{(relay.Sequential.P50 / stdio.Sequential.P50 > 3 ? "; the 3x target is below it here" : string.Empty)})"));
    }

    foreach (var r in all.Where(r => r.Name.StartsWith("mmcp", StringComparison.Ordinal)))
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{r.Name,-24} p50 {r.Sequential.P50:0.000} ms, {concurrency}-way {r.ParallelRate:0} calls/s");
        if (stdio is not null)
        {
            line += string.Create(CultureInfo.InvariantCulture, $" | p50 {r.Sequential.P50 / stdio.Sequential.P50:0.00}x raw stdio ({stdio.Sequential.P50:0.000} ms) {Verdict(r.Sequential.P50 / stdio.Sequential.P50 <= 3)}");
            if (floor is not null)
            {
                var least = floor.Sequential.P50 + stdio.Sequential.P50;
                line += string.Create(CultureInfo.InvariantCulture, $" [{r.Sequential.P50 / least:0.00}x the floor, +{r.Sequential.P50 - least:0.000} ms]");
            }

            if (relay is not null)
            {
                line += string.Create(CultureInfo.InvariantCulture, $" [{r.Sequential.P50 / relay.Sequential.P50:0.00}x the relay, +{r.Sequential.P50 - relay.Sequential.P50:0.000} ms]");
            }
        }

        if (bestP50 is not null && bestThroughput is not null)
        {
            var perRound = r.RoundP50s.Count == bestP50.RoundP50s.Count && r.RoundP50s.Count > 1
                ? Enumerable.Range(0, r.RoundP50s.Count).Select(i => r.RoundP50s[i] / peerResults.Min(p => p.RoundP50s[i])).Order().ToArray()
                : null;
            line += string.Create(CultureInfo.InvariantCulture, $" | p50 {r.Sequential.P50 / bestP50.Sequential.P50:0.00}x {bestP50.Name} ({bestP50.Sequential.P50:0.000} ms) {Verdict(r.Sequential.P50 / bestP50.Sequential.P50 <= 0.5)}");
            if (perRound is not null)
            {
                line += string.Create(CultureInfo.InvariantCulture, $" [per round {perRound[0]:0.00}-{perRound[^1]:0.00}]");
            }

            line += string.Create(CultureInfo.InvariantCulture, $" | {concurrency}-way {r.ParallelRate / bestThroughput.ParallelRate:0.00}x {bestThroughput.Name} ({bestThroughput.ParallelRate:0} calls/s) {Verdict(r.ParallelRate / bestThroughput.ParallelRate >= 2.5)}");
            if (r.RoundRates.Count == bestThroughput.RoundRates.Count && r.RoundRates.Count > 1)
            {
                var rateRounds = Enumerable.Range(0, r.RoundRates.Count).Select(i => r.RoundRates[i] / peerResults.Max(p => p.RoundRates[i])).Order().ToArray();
                line += string.Create(CultureInfo.InvariantCulture, $" [per round {rateRounds[0]:0.00}-{rateRounds[^1]:0.00}]");
            }
        }

        Console.WriteLine(line);
    }

    static string Verdict(bool met) => met ? "(met)" : "(NOT met)";
}
