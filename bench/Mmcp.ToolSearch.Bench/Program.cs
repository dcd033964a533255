// Tool-search benchmark: BM25 alone (the baseline, as search_tools ranked before hybrid search) against BM25 fused with
// local sentence embeddings, in the same run, over catalog/*.json (515 tool definitions of 38 servers) and the
// labelled requests in requests.tsv. Prints top-1 and top-3 accuracy, the size of the tools/list a model sees in search
// mode against the full list, and search latency at the catalog's size. Both rankings run as they were before the third
// round of tuning ("previous": MiniLM, no intent features) and as they are now (ArcticXs with its query instruction and
// the intent features), interleaved request by request, so their latencies compare.
//
//   dotnet build -c Release bench/Mmcp.ToolSearch.Bench
//   dotnet bench/Mmcp.ToolSearch.Bench/bin/Release/net10.0/Mmcp.ToolSearch.Bench.dll [--split all|tune|heldout] [--misses] [--rounds 3] [--explore] [--cache-dir DIR]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mmcp.Gateway.Aggregation;
using Mmcp.Gateway.Search;
using Mmcp.ToolSearch.Bench;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

var cli = Bench.BenchArgs.Parse(args, """
    Usage: Mmcp.ToolSearch.Bench [--split all|tune|heldout] [--misses] [--rounds N] [--explore] [--cache-dir DIR]
      --split S        the labelled requests measured: all (default), tune (even) or heldout (odd)
      --misses         list the requests whose tool is not in the top 3
      --rounds N       latency rounds after one warm-up pass (default 3)
      --explore        variants of the ranking, one feature changed at a time (with --split all)
      --cache-dir DIR  keep the tool vectors between runs
      -h, --help       this text
    """, numbers: ["--rounds"], texts: ["--split", "--cache-dir"], switches: ["--misses", "--explore"]);
if (cli.Exit is { } exit)
{
    return exit;
}

var split = cli.Text("--split") ?? "all";
if (split is not ("all" or "tune" or "heldout"))
{
    Console.Error.WriteLine($"error: --split is all, tune or heldout, not '{split}'.");
    return 2;
}

var showMisses = cli.Has("--misses");
var rounds = cli.Number("--rounds", 3);
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
// --cache-dir keeps the tool vectors between runs (for tuning); then "cold" embeds only what the directory lacks.
var keptCache = cli.Text("--cache-dir");
var cacheDirectory = keptCache is null ? Directory.CreateTempSubdirectory("mmcp-toolsearch-bench-") : Directory.CreateDirectory(keptCache);
try
{
    var cachePath = Path.Combine(cacheDirectory.FullName, ToolSearchEngine.CacheFileName);
    using var embedder = new ArcticXsToolEmbedder();
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

    // The ranking before issue 12 item 7's third round: all-MiniLM-L6-v2, BM25 at 0.1, no intent features.
    var previousRanking = ToolSearchRanking.Default with { HeadWeight = 0.3, LexicalWeight = 0.1, ActionWeight = 0, ClashWeight = 0, ObjectWordWeight = 0 };
    using var previousEmbedder = new MiniLmToolEmbedder();
    var previousCache = new ToolEmbeddingCache(Path.Combine(cacheDirectory.FullName, "search-embeddings.all-MiniLM-L6-v2.bin"), previousEmbedder.ModelId, previousEmbedder.Dimensions, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    if (cli.Has("--explore"))
    {
        // Tuning aid: accuracy of variants of the ranking, one feature changed at a time. Run it with --split all: it
        // prints the tune split (even requests; choose there) and the held-out split (odd; check there) apart. Request
        // vectors are memoized, so latency means nothing here.
        var memo = new MemoEmbedder(embedder);
        var previousMemo = new MemoEmbedder(previousEmbedder);
        var d = ToolSearchRanking.Default;
        (string, ToolSearchRanking, bool)[] variants =
        [
            ("previous (MiniLM)", previousRanking, true),
            ("previous + intent features (MiniLM)", d with { HeadWeight = 0.3 }, true),
            ("ArcticXs, previous weights", previousRanking, false),
            ("ArcticXs, lexical 0.05", previousRanking with { LexicalWeight = 0.05 }, false),
            ("ArcticXs, lexical 0.05 + object words", previousRanking with { LexicalWeight = 0.05, ObjectWordWeight = d.ObjectWordWeight }, false),
            ("ArcticXs, lexical 0.05 + action", previousRanking with { LexicalWeight = 0.05, ActionWeight = d.ActionWeight }, false),
            ("ArcticXs, lexical 0.05 + action + clash", previousRanking with { LexicalWeight = 0.05, ActionWeight = d.ActionWeight, ClashWeight = d.ClashWeight }, false),
            ("ArcticXs, lexical 0.05 + action + clash + object words", d with { HeadWeight = 0.3 }, false),
            ("default (the same, head 0: one text embedded)", d, false),
            ("default - action", d with { ActionWeight = 0 }, false),
            ("default - clash", d with { ClashWeight = 0 }, false),
            ("default - object words", d with { ObjectWordWeight = 0 }, false),
            ("default, lexical 0.1", d with { LexicalWeight = 0.1 }, false),
            ("default, object words 0.05", d with { ObjectWordWeight = 0.05 }, false),
            ("default, action 0.02", d with { ActionWeight = 0.02 }, false),
            ("default, server 0.2", d with { ServerWeight = 0.2 }, false),
            ("default, head 0.2", d with { HeadWeight = 0.2 }, false),
        ];
        foreach (var (label, ranking, miniLm) in variants)
        {
            var variant = miniLm ? new ToolSearchEngine(previousMemo, previousCache) { Ranking = ranking } : new ToolSearchEngine(memo, hybrid.Cache) { Ranking = ranking };
            await variant.PrepareAsync(tools.Select(t => (t.Name, t.Tool)));
            var r = (await RunAsync([variant], [label], rounds: 1))[0];

            // With --split all, the tune split is the even requests and the held-out split the odd ones.
            string Split(int parity) => $"top-1 {r.Ranks.Where((_, i) => i % 2 == parity).Count(k => k == 1),2} top-3 {r.Ranks.Where((_, i) => i % 2 == parity).Count(k => k is >= 1 and <= 3),3}";
            Console.WriteLine($"{r.Name}: top-1 {r.Top1:P1}, top-3 {r.Top3:P1}; tune {Split(0)}; heldout {Split(1)}");
        }
    }

    var lexicalPrevious = new ToolSearchEngine(null, null) { Ranking = previousRanking with { Lexical = ToolSearchIndexOptions.Default with { Stems = false, SynonymWeight = 0 } } };
    var lexical = new ToolSearchEngine(null, null);
    var previous = new ToolSearchEngine(previousEmbedder, previousCache) { Ranking = previousRanking };
    await previous.PrepareAsync(tools.Select(t => (t.Name, t.Tool)));
    var withHead = new ToolSearchEngine(embedder, hybrid.Cache) { Ranking = ToolSearchRanking.Default with { HeadWeight = 0.3 } };
    var results = await RunAsync(
        [lexicalPrevious, lexical, previous, hybrid, withHead],
        ["BM25 alone, previous (baseline)", "BM25 alone, now", "hybrid, previous (MiniLM)", "hybrid, now (ArcticXs + intent)", "hybrid, now with the head at 0.3 (two texts embedded)"],
        rounds);
    var hybridResult = results[3];

    Console.WriteLine();
    Console.WriteLine($"| ranking | top-1 | top-3 | search p50 | search p95 |");
    Console.WriteLine($"|---|---:|---:|---:|---:|");
    foreach (var r in results)
    {
        Console.WriteLine($"| {r.Name} | {r.Top1:P1} ({r.Top1Count}/{requests.Count}) | {r.Top3:P1} ({r.Top3Count}/{requests.Count}) | {r.P50:F2} ms | {r.P95:F2} ms |");
    }

    Console.WriteLine($"Hybrid now against the previous ranking, same run (interleaved per request): p50 {hybridResult.P50 / results[2].P50:F2}×, p95 {hybridResult.P95 / results[2].P95:F2}×; load average {LoadAverage()}.");

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
    if (keptCache is null)
    {
        cacheDirectory.Delete(recursive: true);
    }
}

return 0;

// Runs the engines interleaved (each request goes to every engine in turn), so a change in the machine's load touches all alike.
async Task<Result[]> RunAsync(ToolSearchEngine[] engines, string[] names, int rounds)
{
    // One pass to warm the JIT and the lexical index, then timed rounds; accuracy from the first timed round.
    foreach (var (query, _) in requests)
    {
        foreach (var engine in engines)
        {
            await engine.SearchAsync(tools, query, 10);
        }
    }

    var latencies = engines.Select(_ => new List<double>(requests.Count * rounds)).ToArray();
    var top1 = new int[engines.Length];
    var top3 = new int[engines.Length];
    var answerSizes = engines.Select(_ => new List<int>()).ToArray();
    var misses = engines.Select(_ => new List<string>()).ToArray();
    var ranks = engines.Select(_ => new List<int>()).ToArray();
    for (var round = 0; round < rounds; round++)
    {
        foreach (var (query, expected) in requests)
        {
            for (var e = 0; e < engines.Length; e++)
            {
                var started = Stopwatch.GetTimestamp();
                var hits = await engines[e].SearchAsync(tools, query, 10);
                latencies[e].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (round > 0)
                {
                    continue;
                }

                var rank = hits.Select((h, i) => (h, i)).FirstOrDefault(x => expected.Contains(x.h.Tool.Name)) is var (hit, i) && hit.Tool is not null ? i + 1 : 0;
                ranks[e].Add(rank);
                top1[e] += rank == 1 ? 1 : 0;
                top3[e] += rank is >= 1 and <= 3 ? 1 : 0;
                if (rank is 0 or > 3)
                {
                    misses[e].Add($"  {(rank == 0 ? "-" : rank.ToString(CultureInfo.InvariantCulture)),2} {query}  (want {string.Join(" | ", expected)}; got {string.Join(", ", hits.Take(3).Select(h => h.Tool.Name))})");
                }

                answerSizes[e].Add(AnswerBytes(hits.Take(5)));
            }
        }
    }

    var results = new Result[engines.Length];
    for (var e = 0; e < engines.Length; e++)
    {
        latencies[e].Sort();
        answerSizes[e].Sort();
        if (showMisses)
        {
            Console.WriteLine($"{names[e]}: not in the top 3:");
            misses[e].ForEach(Console.WriteLine);
        }

        results[e] = new Result(names[e], top1[e], top3[e], (double)top1[e] / requests.Count, (double)top3[e] / requests.Count, Percentile(latencies[e], 0.50), Percentile(latencies[e], 0.95), answerSizes[e][answerSizes[e].Count / 2], [.. ranks[e]]);
    }

    return results;
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

internal sealed record Result(string Name, int Top1Count, int Top3Count, double Top1, double Top3, double P50, double P95, int MedianAnswerBytes, int[] Ranks);

// Remembers every vector, so the --explore variants embed each request once.
internal sealed class MemoEmbedder(IToolEmbedder inner) : IToolEmbedder
{
    private readonly Dictionary<string, float[]> _vectors = new(StringComparer.Ordinal);

    public string ModelId => inner.ModelId;

    public int Dimensions => inner.Dimensions;

    public string QueryPrefix => inner.QueryPrefix;

    public float[][] Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var missing = texts.Where(t => !_vectors.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            var vectors = inner.Embed(missing, cancellationToken);
            for (var i = 0; i < missing.Count; i++)
            {
                _vectors[missing[i]] = vectors[i];
            }
        }

        return [.. texts.Select(t => _vectors[t])];
    }
}

