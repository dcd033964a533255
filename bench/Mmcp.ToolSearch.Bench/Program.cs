// Tool-search benchmark: BM25 alone (the baseline, as search_tools ranked before hybrid search) against BM25 fused with
// local sentence embeddings, in the same run, over catalog/*.json (515 tool definitions of 35 servers) and the
// labelled requests in requests.tsv. Prints top-1 and top-3 accuracy, the size of the tools/list a model sees in search
// mode against the full list, and search latency at the catalog's size.
//
//   dotnet build -c Release bench/Mmcp.ToolSearch.Bench
//   dotnet bench/Mmcp.ToolSearch.Bench/bin/Release/net10.0/Mmcp.ToolSearch.Bench.dll [--split all|tune|heldout] [--misses] [--rounds 3]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mmcp.Gateway.Aggregation;
using Mmcp.Gateway.Search;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

var split = Arg("--split") ?? "all";
var showMisses = args.Contains("--misses");
var rounds = int.Parse(Arg("--rounds") ?? "3", CultureInfo.InvariantCulture);
var baseDirectory = AppContext.BaseDirectory;

var tools = LoadCatalog(Path.Combine(baseDirectory, "catalog"));
var requests = LoadRequests(Path.Combine(baseDirectory, "requests.tsv"), split);
var names = tools.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
foreach (var (query, expected) in requests)
{
    foreach (var id in expected.Where(id => !names.Contains(id)))
    {
        throw new InvalidOperationException($"requests.tsv: '{query}' expects '{id}', which is not in the catalog.");
    }
}

Console.WriteLine($"Catalog: {tools.Count} tools from {tools.Select(t => t.ServerId).Distinct().Count()} servers; {requests.Count} labelled requests (split: {split}); {Environment.ProcessorCount} cores; load average {LoadAverage()}.");

// ---- tools/list sizes: what a model holds in each mode.
var jsonOptions = McpJsonUtilities.DefaultOptions;
var fullList = JsonSerializer.SerializeToUtf8Bytes(new ListToolsResult { Tools = [.. tools.Select(t => t.ToExposed())] }, jsonOptions);
var searchList = JsonSerializer.SerializeToUtf8Bytes(new ListToolsResult { Tools = AggregatedEndpoint.MetaTools }, jsonOptions);

// ---- Embedding at discovery: model load, then the whole catalog cold (empty cache), then again from the cache file.
var cacheDirectory = Directory.CreateTempSubdirectory("mmcp-toolsearch-bench-");
try
{
    var cachePath = Path.Combine(cacheDirectory.FullName, ToolSearchEngine.CacheFileName);
    using var embedder = new MiniLmToolEmbedder();
    var clock = Stopwatch.StartNew();
    embedder.Load();
    var loadMs = clock.Elapsed.TotalMilliseconds;

    var hybrid = new ToolSearchEngine(embedder, new ToolEmbeddingCache(cachePath, embedder.ModelId, embedder.Dimensions, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
    clock.Restart();
    await hybrid.PrepareAsync(tools.Select(t => (t.Name, t.Tool)));
    var coldMs = clock.Elapsed.TotalMilliseconds;
    var computedCold = hybrid.Cache!.Computed;

    var restarted = new ToolSearchEngine(embedder, new ToolEmbeddingCache(cachePath, embedder.ModelId, embedder.Dimensions, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
    clock.Restart();
    await restarted.PrepareAsync(tools.Select(t => (t.Name, t.Tool)));
    var warmMs = clock.Elapsed.TotalMilliseconds;
    var computedWarm = restarted.Cache!.Computed;
    var cacheBytes = new FileInfo(cachePath).Length;

    if (args.Contains("--explore"))
    {
        // Tuning aid (run it with --split tune): accuracy for other fusion weights; latency is not meaningful here.
        foreach (var weighted in new[] { 0.0, 0.1 })
        {
            foreach (var head in new[] { 0.0, 0.3, 0.5 })
            {
                foreach (var server in new[] { 0.0, 0.3, 0.5 })
                {
                    var variant = new ToolSearchEngine(embedder, hybrid.Cache) { LexicalWeight = 0, LexicalScoreWeight = weighted, HeadWeight = head, ServerWeight = server };
                    var r = await RunAsync(variant, $"weighted-sum {weighted} head {head} server {server}");
                    Console.WriteLine($"{r.Name}: top-1 {r.Top1:P1}, top-3 {r.Top3:P1}");
                }
            }
        }
    }

    var lexical = new ToolSearchEngine(null, null);
    var lexicalResult = await RunAsync(lexical, "BM25 only (baseline)");
    var hybridResult = await RunAsync(hybrid, "hybrid: BM25 + MiniLM");

    Console.WriteLine();
    Console.WriteLine($"| ranking | top-1 | top-3 | search p50 | search p95 |");
    Console.WriteLine($"|---|---:|---:|---:|---:|");
    foreach (var r in new[] { lexicalResult, hybridResult })
    {
        Console.WriteLine($"| {r.Name} | {r.Top1:P1} ({r.Top1Count}/{requests.Count}) | {r.Top3:P1} ({r.Top3Count}/{requests.Count}) | {r.P50:F2} ms | {r.P95:F2} ms |");
    }

    Console.WriteLine();
    Console.WriteLine($"| what a model holds | tools | bytes | vs full |");
    Console.WriteLine($"|---|---:|---:|---:|");
    Console.WriteLine($"| `tools/list`, all tools | {tools.Count} | {fullList.Length:N0} | 100 % |");
    Console.WriteLine($"| `tools/list`, search mode | 2 | {searchList.Length:N0} | {100.0 * searchList.Length / fullList.Length:F2} % ({100 - (100.0 * searchList.Length / fullList.Length):F1} % smaller) |");
    Console.WriteLine($"| one `search_tools` answer, limit 5 (median, hybrid) | 5 | {hybridResult.MedianAnswerBytes:N0} | {100.0 * hybridResult.MedianAnswerBytes / fullList.Length:F2} % |");

    Console.WriteLine();
    Console.WriteLine($"Embedding at discovery: model load {loadMs:F0} ms; {tools.Count} tools cold {coldMs:F0} ms ({computedCold} embedded in batches of {ToolSearchEngine.BatchSize}, {coldMs / Math.Max(1, computedCold):F1} ms/tool); from the cache file {warmMs:F1} ms ({computedWarm} embedded; file {cacheBytes:N0} bytes).");

    var goals = new[]
    {
        ("top-3 >= 90 %", hybridResult.Top3 >= 0.90),
        ("top-1 >= 75 %", hybridResult.Top1 >= 0.75),
        ("tools/list >= 90 % smaller", searchList.Length <= fullList.Length * 0.10),
        ("search p50 <= 5 ms at 500 tools", hybridResult.P50 <= 5.0),
    };
    Console.WriteLine("Goals (hybrid): " + string.Join("; ", goals.Select(g => $"{g.Item1}: {(g.Item2 ? "met" : "MISSED")}")));
}
finally
{
    cacheDirectory.Delete(recursive: true);
}

async Task<Result> RunAsync(ToolSearchEngine engine, string name)
{
    // One pass to warm the JIT and the lexical index, then timed rounds; accuracy from the first timed round.
    foreach (var (query, _) in requests)
    {
        await engine.SearchAsync(tools, query, 10);
    }

    var latencies = new List<double>(requests.Count * rounds);
    int top1 = 0, top3 = 0;
    var answerSizes = new List<int>();
    var misses = new List<string>();
    for (var round = 0; round < rounds; round++)
    {
        foreach (var (query, expected) in requests)
        {
            var started = Stopwatch.GetTimestamp();
            var hits = await engine.SearchAsync(tools, query, 10);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (round > 0)
            {
                continue;
            }

            var rank = hits.Select((h, i) => (h, i)).FirstOrDefault(x => expected.Contains(x.h.Tool.Name)) is var (hit, i) && hit.Tool is not null ? i + 1 : 0;
            top1 += rank == 1 ? 1 : 0;
            top3 += rank is >= 1 and <= 3 ? 1 : 0;
            if (rank is 0 or > 3)
            {
                misses.Add($"  {(rank == 0 ? "-" : rank.ToString(CultureInfo.InvariantCulture)),2} {query}  (want {string.Join(" | ", expected)}; got {string.Join(", ", hits.Take(3).Select(h => h.Tool.Name))})");
            }

            answerSizes.Add(AnswerBytes(hits.Take(5)));
        }
    }

    latencies.Sort();
    answerSizes.Sort();
    if (showMisses)
    {
        Console.WriteLine($"{name}: not in the top 3:");
        misses.ForEach(Console.WriteLine);
    }

    return new Result(name, top1, top3, (double)top1 / requests.Count, (double)top3 / requests.Count, Percentile(latencies, 0.50), Percentile(latencies, 0.95), answerSizes[answerSizes.Count / 2]);
}

// The text content of a search_tools answer, as AggregatedEndpoint writes it.
static int AnswerBytes(IEnumerable<(CatalogTool Tool, double Score)> hits)
{
    var array = new JsonArray();
    foreach (var (tool, score) in hits)
    {
        array.Add((JsonNode)new JsonObject
        {
            ["name"] = tool.Name,
            ["description"] = tool.Tool.Description,
            ["inputSchema"] = JsonNode.Parse(tool.Tool.InputSchema.GetRawText()),
            ["score"] = Math.Round(score, 3),
        });
    }

    return System.Text.Encoding.UTF8.GetByteCount(new JsonObject { ["tools"] = array }.ToJsonString());
}

static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

static List<CatalogTool> LoadCatalog(string directory)
{
    var tools = new List<CatalogTool>();
    foreach (var file in Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal))
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(file));
        var server = document.RootElement.GetProperty("server").GetString()!;
        foreach (var item in document.RootElement.GetProperty("tools").EnumerateArray())
        {
            var tool = new Tool
            {
                Name = item.GetProperty("name").GetString()!,
                Description = item.GetProperty("description").GetString(),
                InputSchema = item.GetProperty("inputSchema").Clone(),
            };
            tools.Add(new CatalogTool($"{server}__{tool.Name}", server, tool, Mmcp.Client.Consent.ConsentStore.ComputeHash(tool)));
        }
    }

    return tools;
}

// split: "all", or "tune" (every even request) / "heldout" (every odd one), for tuning on one half and reporting the other.
static List<(string Query, HashSet<string> Expected)> LoadRequests(string path, string split)
{
    var all = File.ReadLines(path)
        .Where(l => l.Length > 0 && !l.StartsWith('#'))
        .Select(l => l.Split('\t'))
        .Select(p => (p[0], p[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal)))
        .ToList();
    return split switch
    {
        "all" => all,
        "tune" => [.. all.Where((_, i) => i % 2 == 0)],
        "heldout" => [.. all.Where((_, i) => i % 2 == 1)],
        _ => throw new ArgumentException($"--split is '{split}'; use all, tune or heldout."),
    };
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

internal sealed record Result(string Name, int Top1Count, int Top3Count, double Top1, double Top3, double P50, double P95, int MedianAnswerBytes);
