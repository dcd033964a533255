using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mmcp.Gateway.Bench;

/// <summary>
/// The context phase: how much of a client's context window the gateway's tool definitions take, with every tool
/// listed (<c>--tool-mode all</c>) and with only the <c>search_tools</c>/<c>call_tool</c> meta-tools
/// (<c>--tool-mode search</c>), through <c>mmcp serve</c> fronting several real stdio servers from eng/npm. Sizes are
/// compact UTF-8 JSON (relaxed escaping, as a client would put it in a prompt); tokens are estimated as bytes / 4.
/// </summary>
internal static class ContextPhase
{
    private const int SearchLimit = 5;
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Typical requests an LLM would search for, one or more per fronted server.</summary>
    private static readonly string[] Queries =
    [
        "read a text file",
        "write content to a file",
        "add two numbers",
        "remember a fact about a person",
        "search the knowledge graph",
        "long running operation with progress",
    ];

    public static async Task<int> RunAsync(string repo, string node, HttpClient http)
    {
        var mmcp = Path.Combine(repo, "src", "Mmcp.Cli", "bin", "Release", "net10.0", "mmcp.dll");
        if (!File.Exists(mmcp))
        {
            Console.WriteLine($"# context phase skipped: {mmcp} not built (dotnet build -c Release src/Mmcp.Cli)");
            return 0;
        }

        var npm = Path.Combine(repo, "eng", "npm", "node_modules", "@modelcontextprotocol");
        var skipped = new List<string>();
        using var home = new GatewayHome();
        var manifests = Manifests(npm, node, home.Root, skipped);
        if (manifests.Count == 0)
        {
            Console.Error.WriteLine($"context phase: no MCP reference server under {npm}: run ./eng/install-deps.sh first");
            return 2;
        }

        manifests.ForEach(home.Add);
        var all = await MeasureAsync(mmcp, home, "all", http);
        var search = await MeasureAsync(mmcp, home, "search", http);

        Console.WriteLine();
        Console.WriteLine($"# context: {DateTime.UtcNow:O} cores={Environment.ProcessorCount}; tool definitions a client holds through `mmcp serve` (compact UTF-8 JSON; tokens = bytes/4, an estimate)");
        Console.WriteLine($"# servers: {string.Join(", ", all.ToolsPerServer.Select(kv => $"{kv.Key} ({kv.Value} tools)"))}{(skipped.Count > 0 ? $"; not installed: {string.Join(", ", skipped)}" : string.Empty)}");
        Console.WriteLine("what                                                             | tools |   bytes | ~tokens");
        Row("tools/list, --tool-mode all", all.ListedTools, all.ListBytes);
        Row("tools/list, --tool-mode search", search.ListedTools, search.ListBytes);
        foreach (var answer in search.Answers)
        {
            Row($"search_tools \"{answer.Query}\" (limit {SearchLimit})", answer.Hits.Count, answer.TextBytes);
            Console.WriteLine($"    top: {string.Join(", ", answer.Hits.Take(3))}");
        }

        var typical = Median(search.Answers.Select(a => a.TextBytes));
        Row($"search_tools answer, median of {search.Answers.Count} queries", SearchLimit, typical);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# ratio search/all: tools/list {(double)search.ListBytes / all.ListBytes:0.000}x; tools/list + one typical search_tools answer {(double)(search.ListBytes + typical) / all.ListBytes:0.000}x"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# (search_tools answers are measured as their text content, which is what a client puts in context; on the wire the result also carries the same hits as structuredContent: median {Median(search.Answers.Select(a => a.WireBytes)):N0} bytes)"));
        return 0;
    }

    private static void Row(string what, int tools, long bytes) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-64} | {tools,5} | {bytes,7:N0} | {bytes / 4,7:N0}"));

    private static long Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[(sorted.Length - 1) / 2];
    }

    /// <summary>A manifest for each MCP reference server present in eng/npm (the pinned ones, plus any other known one installed); files go under <paramref name="scratch"/>.</summary>
    private static List<JsonObject> Manifests(string npm, string node, string scratch, List<string> skipped)
    {
        var manifests = new List<JsonObject>();
        void Add(string id, string package, string description, string[] args, JsonObject? env = null)
        {
            var entry = Path.Combine(npm, package, "dist", "index.js");
            if (File.Exists(entry))
            {
                manifests.Add(GatewayHome.StdioManifest(id, description, node, [entry, .. args], env));
            }
            else
            {
                skipped.Add(package);
            }
        }

        var files = Directory.CreateDirectory(Path.Combine(scratch, "files")).FullName;
        Add("io.bench.everything", "server-everything", "MCP reference server: every protocol feature", ["stdio"]);
        Add("io.bench.filesystem", "server-filesystem", "MCP reference server: files in one directory", [files]);
        Add("io.bench.memory", "server-memory", "MCP reference server: a knowledge graph", [], new JsonObject { ["MEMORY_FILE_PATH"] = Path.Combine(scratch, "memory.jsonl") });
        Add("io.bench.sequentialthinking", "server-sequential-thinking", "MCP reference server: step-by-step thinking", []);
        return manifests;
    }

    private static async Task<ModeResult> MeasureAsync(string mmcp, GatewayHome home, string mode, HttpClient http)
    {
        var port = BenchEnvironment.FreePort();
        using var peer = await Peer.StartAsync($"mmcp serve --tool-mode {mode}", "dotnet", GatewayHome.ServeArgs(mmcp, port, "--tool-mode", mode), home.Environment, port);
        var baseUrl = $"http://127.0.0.1:{port}";
        var perServer = await WaitForEveryServerAsync(http, baseUrl, home.Registry);

        await using var client = new RawMcpHttpClient(http, new Uri(baseUrl + "/mcp"));
        await client.InitializeAsync(CancellationToken.None);
        long listBytes = 0;
        var listed = 0;
        string? cursor = null;
        do
        {
            var page = await client.SendAsync("tools/list", cursor is null ? [] : new JsonObject { ["cursor"] = cursor }, CancellationToken.None)
                ?? throw new InvalidOperationException("tools/list returned no result");
            listBytes += SizeOf(page);
            listed += page["tools"]!.AsArray().Count;
            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);

        var answers = new List<SearchAnswer>();
        if (mode == "search")
        {
            foreach (var query in Queries)
            {
                var result = await client.SendAsync("tools/call", new JsonObject { ["name"] = "search_tools", ["arguments"] = new JsonObject { ["query"] = query, ["limit"] = SearchLimit } }, CancellationToken.None)
                    ?? throw new InvalidOperationException("search_tools returned no result");
                var text = string.Concat(result["content"]!.AsArray().Select(c => c?["text"]?.GetValue<string>()));
                var hits = result["structuredContent"]?["tools"]?.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToList() ?? [];
                answers.Add(new SearchAnswer(query, hits, Encoding.UTF8.GetByteCount(text), SizeOf(result)));
            }
        }

        return new ModeResult(perServer, listed, listBytes, answers);
    }

    /// <summary>Lists through REST until every registered server contributes tools (servers start lazily on first use).</summary>
    private static async Task<SortedDictionary<string, int>> WaitForEveryServerAsync(HttpClient http, string baseUrl, string registry)
    {
        var expected = Directory.GetFiles(registry, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var listing = JsonNode.Parse(await http.GetStringAsync(baseUrl + "/mcp/tools/list"))!;
            counts.Clear();
            foreach (var tool in listing["tools"]!.AsArray())
            {
                var server = tool!["server"]!.GetValue<string>();
                counts[server] = counts.GetValueOrDefault(server) + 1;
            }

            if (expected.All(counts.ContainsKey))
            {
                return counts;
            }

            await Task.Delay(250);
        }

        throw new InvalidOperationException($"not every server listed its tools: expected {string.Join(", ", expected)}, got {string.Join(", ", counts.Keys)}");
    }

    private static long SizeOf(JsonNode node) => Encoding.UTF8.GetByteCount(node.ToJsonString(Compact));

    private sealed record SearchAnswer(string Query, List<string> Hits, long TextBytes, long WireBytes);

    private sealed record ModeResult(SortedDictionary<string, int> ToolsPerServer, int ListedTools, long ListBytes, List<SearchAnswer> Answers);
}
