using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Mmcp.Client;
using Mmcp.Gateway.Aggregation;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Search;

/// <summary>
/// The <c>search_tools</c> ranking: the cosine similarity of local sentence embeddings (<see cref="ArcticXsToolEmbedder"/>;
/// the request and its head against each tool's text and its server's name), the BM25 score
/// (<see cref="ToolSearchIndex"/>) relative to the best and the request's intent against the tool's name
/// (<see cref="ToolSearchIntent"/>), weighted as <see cref="ToolSearchRanking"/> says, so a request finds a tool that shares no word with it ("create a new
/// folder" → <c>create_directory</c>). Tool vectors are computed when the hub discovers tools (in the background, in
/// batches) and cached by the hash of what was embedded (<see cref="ToolEmbeddingCache"/>); each search embeds only
/// the request and its head. Without embeddings (<see cref="MmcpGatewayOptions.SearchEmbeddings"/> off, or the model
/// failed to load) it is BM25 alone.
/// </summary>
internal sealed partial class ToolSearchEngine : IDisposable
{
    /// <summary>Texts per call to the model while embedding a catalog.</summary>
    public const int BatchSize = 32;

    /// <summary>The cache file's name in the hub's tool cache directory.</summary>
    public const string CacheFileName = "search-embeddings.snowflake-arctic-embed-xs.bin";

    // How many of each ranking take part in the fusion.
    private const int Candidates = 50;

    private static readonly Lazy<ArcticXsToolEmbedder> SharedEmbedder = new(() => new ArcticXsToolEmbedder(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly IToolEmbedder? _embedder;
    private readonly ToolEmbeddingCache? _cache;
    private readonly ILogger _logger;
    private readonly MmcpHub? _hub;
    private readonly SemaphoreSlim _embedGate = new(1, 1);
    private readonly ConditionalWeakTable<Tool, ToolKeys> _texts = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _warmLock = new();
    private volatile LexicalIndex? _lexical;
    private volatile bool _embeddingsFailed;
    private Task _warm = Task.CompletedTask;
    private bool _warmAgain;

    /// <summary>Creates the engine the gateway uses: embeddings per <see cref="MmcpGatewayOptions.SearchEmbeddings"/>, the vectors cached next to the hub's tool cache, computed as the hub discovers tools (search mode only).</summary>
    public ToolSearchEngine(MmcpHub hub, IOptions<MmcpGatewayOptions> options, ILogger<ToolSearchEngine> logger)
    {
        _logger = logger;
        var o = options.Value;
        if (o.ToolMode != GatewayToolMode.Search || !o.SearchEmbeddings)
        {
            return;
        }

        _embedder = SharedEmbedder.Value;
        _cache = new ToolEmbeddingCache(CachePath(hub.Options), _embedder.ModelId, _embedder.Dimensions, logger);
        _hub = hub;
        _hub.ListChanged += OnHubChanged;
        _hub.ServersChanged += OnHubChanged;
        ScheduleWarm();
    }

    /// <summary>Creates an engine over the given parts (tests and the benchmark); no hub, so nothing is embedded until <see cref="PrepareAsync"/> or a search.</summary>
    internal ToolSearchEngine(IToolEmbedder? embedder, ToolEmbeddingCache? cache, ILogger? logger = null)
    {
        _embedder = embedder;
        _cache = embedder is null ? null : cache ?? new ToolEmbeddingCache(null, embedder.ModelId, embedder.Dimensions, NullLogger.Instance);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the ranking's features and weights.</summary>
    internal ToolSearchRanking Ranking { get; init; } = ToolSearchRanking.Default;

    /// <summary>Gets a value indicating whether searches use embeddings (false: BM25 only).</summary>
    public bool UsesEmbeddings => _embedder is not null && !_embeddingsFailed;

    /// <summary>Gets the vector cache (null without embeddings).</summary>
    internal ToolEmbeddingCache? Cache => _cache;

    /// <summary>Completes when the background embedding of the hub's tools that is running now (if any) has finished.</summary>
    internal Task WarmTask
    {
        get
        {
            lock (_warmLock)
            {
                return _warm;
            }
        }
    }

    /// <summary>The texts embedded for a tool: its full text (<see cref="TextOf"/>), its server's name in words, and with <see cref="ToolSearchRanking.NameVector"/> its name in words alone.</summary>
    public static ToolTexts TextsOf(string name, Tool tool, ToolSearchRanking ranking)
    {
        var separator = name.IndexOf("__", StringComparison.Ordinal);
        return new ToolTexts(
            TextOf(name, tool),
            ToolSearchText.Words(separator > 0 ? name[..separator] : name),
            ranking.NameVector ? ToolSearchText.Words(name) : null);
    }

    /// <summary>The request's leading verb phrase ("remember" of "remember that Alice likes tea"), or null when that is the whole request.</summary>
    internal static string? HeadOf(string query)
    {
        var words = query.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = 1; i < words.Length; i++)
        {
            if (HeadStops.Contains(words[i].TrimEnd(',', '.', ':', ';')) || words[i - 1].EndsWith(',') || words[i - 1].EndsWith(':'))
            {
                return string.Join(' ', words[..i]).TrimEnd(',', ':');
            }
        }

        return null;
    }

    private static readonly HashSet<string> HeadStops = new(["that", "about", "which", "who", "where", "when", "because", "if", "from", "with", "for", "in", "on", "to", "into", "at", "by", "of", "as", "saying"], StringComparer.OrdinalIgnoreCase);

    /// <summary>The main text embedded for a tool: its name split into words, its title and its description.</summary>
    public static string TextOf(string name, Tool tool)
    {
        var text = new StringBuilder(ToolSearchText.Words(name));
        if (!string.IsNullOrWhiteSpace(tool.Title))
        {
            text.Append(". ").Append(tool.Title);
        }

        if (!string.IsNullOrWhiteSpace(tool.Description))
        {
            text.Append(". ").Append(tool.Description);
        }

        return text.ToString();
    }

    /// <summary>Embeds the tools not embedded yet, in batches of <see cref="BatchSize"/> (other searches may run between batches).</summary>
    public async ValueTask PrepareAsync(IEnumerable<(string Name, Tool Tool)> tools, CancellationToken cancellationToken = default)
    {
        if (!UsesEmbeddings)
        {
            return;
        }

        await Fronts.IoThread.LeaveAsync().ConfigureAwait(false); // the model runs for milliseconds to seconds
        var items = tools.SelectMany(t => TextsFor(t.Name, t.Tool).Items).ToList();
        var added = 0;
        for (var start = 0; start < items.Count; start += BatchSize)
        {
            await _embedGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                added += TryAddMissing(items.GetRange(start, Math.Min(BatchSize, items.Count - start)), cancellationToken);
            }
            finally
            {
                _embedGate.Release();
            }
        }

        if (added > 0)
        {
            _cache!.Save();
        }
    }

    /// <summary>Ranks the tools for a request: the best <paramref name="limit"/> with their scores (fused when embeddings are on, BM25 otherwise).</summary>
    public async ValueTask<IReadOnlyList<(CatalogTool Tool, double Score)>> SearchAsync(IReadOnlyList<CatalogTool> tools, string query, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tools);
        ArgumentNullException.ThrowIfNull(query);
        await Fronts.IoThread.LeaveAsync().ConfigureAwait(false); // a search embeds its query: milliseconds of CPU
        var lexical = LexicalFor(tools);
        if (!UsesEmbeddings || string.IsNullOrWhiteSpace(query))
        {
            return lexical.Index.Search(query, limit);
        }

        var texts = new ToolKeys[tools.Count];
        List<(string, string)>? missing = null;
        for (var i = 0; i < tools.Count; i++)
        {
            texts[i] = TextsFor(tools[i].Name, tools[i].Tool);
            foreach (var item in texts[i].Items)
            {
                if (!_cache!.TryGet(item.Key, out _))
                {
                    (missing ??= []).Add(item);
                }
            }
        }

        if (missing is not null)
        {
            // Discovery has not embedded these yet (or is doing it now): finish them here, once.
            await _embedGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (TryAddMissing(missing, cancellationToken) > 0)
                {
                    _ = Shared.Telemetry.Detached.Start(() => Task.Run(_cache!.Save, CancellationToken.None));
                }
            }
            finally
            {
                _embedGate.Release();
            }
        }

        float[] queryVector;
        float[]? headVector = null;
        try
        {
            var head = Ranking.HeadWeight > 0 ? HeadOf(query) : null;
            var prefix = _embedder!.QueryPrefix;
            var vectors = _embedder.Embed(head is null ? [prefix + query] : [prefix + query, prefix + head], cancellationToken);
            queryVector = vectors[0];
            headVector = head is null ? null : vectors[1];
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Disable(ex);
            queryVector = [];
        }

        if (queryVector.Length == 0)
        {
            return lexical.Index.Search(query, limit);
        }

        var ranking = Ranking;
        var intent = ToolSearchIntent.OfRequest(query);
        var semantic = new (int Index, float Score)[tools.Count];
        var count = 0;
        for (var i = 0; i < tools.Count; i++)
        {
            var t = texts[i];
            if (!_cache!.TryGet(t.FullKey, out var full) || !_cache.TryGet(t.ServerKey, out var server))
            {
                continue;
            }

            var nameOnly = t.NameKey is not null && _cache.TryGet(t.NameKey, out var n) ? n : null;
            double Similarity(float[] q) => nameOnly is null ? Dot(q, full) : Math.Max(Dot(q, full), Dot(q, nameOnly));

            var score = Similarity(queryVector);
            var serverScore = (double)Dot(queryVector, server);
            if (headVector is not null)
            {
                score = ((1 - ranking.HeadWeight) * score) + (ranking.HeadWeight * Similarity(headVector));
                serverScore = Math.Max(serverScore, Dot(headVector, server));
            }

            var tool = lexical.Intents[i];
            var intentScore = (ToolSearchIntent.SameAction(intent, tool) ? ranking.ActionWeight : 0)
                - (ToolSearchIntent.WriteReadClash(intent, tool) ? ranking.ClashWeight : 0)
                + (ranking.ObjectWordWeight * ToolSearchIntent.ObjectWordsFound(intent, tool));
            semantic[count++] = (i, (float)(score + (ranking.ServerWeight * serverScore) + intentScore));
        }

        return ranking.ReciprocalRankK > 0
            ? ReciprocalRank(tools, lexical, semantic.AsSpan(0, count), query, limit, ranking.ReciprocalRankK)
            : WeightedSum(tools, lexical, semantic.AsSpan(0, count), query, limit, ranking.LexicalWeight);
    }

    public void Dispose()
    {
        if (_hub is not null)
        {
            _hub.ListChanged -= OnHubChanged;
            _hub.ServersChanged -= OnHubChanged;
        }

        _stopping.Cancel();
        _stopping.Dispose();
    }

    /// <summary>Where the vectors are kept: beside the hub's tool cache (none when the hub keeps no tool cache).</summary>
    internal static string? CachePath(MmcpHubOptions hubOptions)
    {
        if (!hubOptions.PersistToolCache)
        {
            return null;
        }

        var directory = hubOptions.CacheDirectory;
        if (directory is null)
        {
            var environment = hubOptions.Registry.Environment;
            var cacheHome = environment.Get("XDG_CACHE_HOME") is { } c && Path.IsPathRooted(c) ? c : Path.Combine(environment.HomeDirectory, ".cache");
            directory = Path.Combine(cacheHome, "mmcp", "tools");
        }

        return Path.Combine(directory, CacheFileName);
    }

    private static float Dot(float[] a, float[] b)
    {
        var length = Math.Min(a.Length, b.Length);
        var sum = Vector<float>.Zero;
        var i = 0;
        var va = MemoryMarshal.Cast<float, Vector<float>>(a.AsSpan(0, length));
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b.AsSpan(0, length));
        for (var v = 0; v < va.Length; v++)
        {
            sum += va[v] * vb[v];
        }

        i = va.Length * Vector<float>.Count;
        var total = Vector.Sum(sum);
        for (; i < length; i++)
        {
            total += a[i] * b[i];
        }

        return total;
    }

    private ToolKeys TextsFor(string name, Tool tool) => _texts.GetValue(tool, t => ToolKeys.Of(TextsOf(name, t, Ranking), _cache!));

    private static List<(CatalogTool Tool, double Score)> WeightedSum(IReadOnlyList<CatalogTool> tools, LexicalIndex lexical, ReadOnlySpan<(int Index, float Score)> semantic, string query, int limit, double lexicalWeight)
    {
        var scores = new double[tools.Count];
        foreach (var (index, score) in semantic)
        {
            scores[index] = score;
        }

        var byLexical = lexical.Index.Search(query, Candidates);
        if (byLexical.Count > 0)
        {
            var top = byLexical[0].Score;
            foreach (var (tool, score) in byLexical)
            {
                scores[lexical.Positions[tool]] += lexicalWeight * score / top;
            }
        }

        return [.. Enumerable.Range(0, tools.Count)
            .OrderByDescending(i => scores[i])
            .ThenBy(i => tools[i].Name, StringComparer.Ordinal)
            .Take(limit)
            .Select(i => (tools[i], scores[i]))];
    }

    // Reciprocal rank fusion: score = Σ 1 / (K + rank) over the embedding and the BM25 rankings (Cormack et al. 2009 use K = 60).
    private static List<(CatalogTool Tool, double Score)> ReciprocalRank(IReadOnlyList<CatalogTool> tools, LexicalIndex lexical, Span<(int Index, float Score)> semantic, string query, int limit, int k)
    {
        var fused = new Dictionary<int, double>();
        semantic.Sort(static (a, b) => b.Score.CompareTo(a.Score));
        for (var rank = 0; rank < Math.Min(Candidates, semantic.Length); rank++)
        {
            fused[semantic[rank].Index] = 1.0 / (k + rank + 1);
        }

        var byLexical = lexical.Index.Search(query, Candidates);
        for (var rank = 0; rank < byLexical.Count; rank++)
        {
            var index = lexical.Positions[byLexical[rank].Tool];
            fused[index] = fused.GetValueOrDefault(index) + (1.0 / (k + rank + 1));
        }

        return [.. fused
            .OrderByDescending(f => f.Value)
            .ThenBy(f => tools[f.Key].Name, StringComparer.Ordinal)
            .Take(limit)
            .Select(f => (tools[f.Key], f.Value))];
    }

    private LexicalIndex LexicalFor(IReadOnlyList<CatalogTool> tools)
    {
        // The catalog hands out the same CatalogTool objects until it changes: reuse the index while it does.
        var current = _lexical;
        if (current is not null && current.Tools.Length == tools.Count)
        {
            var same = true;
            for (var i = 0; i < tools.Count && same; i++)
            {
                same = ReferenceEquals(current.Tools[i], tools[i]);
            }

            if (same)
            {
                return current;
            }
        }

        var built = new LexicalIndex([.. tools], Ranking.Lexical);
        _lexical = built;
        return built;
    }

    private int TryAddMissing(IReadOnlyList<(string Key, string Text)> items, CancellationToken cancellationToken)
    {
        if (!UsesEmbeddings)
        {
            return 0;
        }

        try
        {
            return _cache!.AddMissing(items, _embedder!, BatchSize, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Disable(ex);
            return 0;
        }
    }

    private void Disable(Exception ex)
    {
        if (!_embeddingsFailed)
        {
            _embeddingsFailed = true;
            Log.EmbeddingsUnavailable(_logger, ex);
        }
    }

    private void OnHubChanged(object? sender, EventArgs e)
    {
        if (e is HubListChangedEventArgs { Kind: not HubListKind.Tools })
        {
            return;
        }

        ScheduleWarm();
    }

    /// <summary>Embeds the hub's tools in the background; a change while it runs makes it run once more.</summary>
    private void ScheduleWarm()
    {
        lock (_warmLock)
        {
            if (!_warm.IsCompleted)
            {
                _warmAgain = true;
                return;
            }

            _warm = Shared.Telemetry.Detached.Run(WarmAsync); // outside the trace of the request that saw the change
        }
    }

    private async Task WarmAsync()
    {
        while (true)
        {
            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var listing = await _hub!.ListToolsAsync(cancellationToken: _stopping.Token).ConfigureAwait(false);
                var before = _cache!.Computed;
                await PrepareAsync(listing.Tools.Select(t => (t.Name, t.Tool)), _stopping.Token).ConfigureAwait(false);
                Log.Embedded(_logger, listing.Tools.Count, (int)(_cache.Computed - before), System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.WarmFailed(_logger, ex);
            }

            lock (_warmLock)
            {
                if (!_warmAgain)
                {
                    return;
                }

                _warmAgain = false;
            }
        }
    }

    /// <summary>The texts embedded for one tool (<see cref="Name"/> is null when the ranking has no name vectors).</summary>
    internal sealed record ToolTexts(string Full, string Server, string? Name);

    /// <summary>A tool's cache keys, and every (key, text) to embed.</summary>
    private sealed record ToolKeys(string FullKey, string ServerKey, string? NameKey, (string Key, string Text)[] Items)
    {
        public static ToolKeys Of(ToolTexts texts, ToolEmbeddingCache cache)
        {
            (string Key, string Text) full = (cache.KeyOf(texts.Full), texts.Full), server = (cache.KeyOf(texts.Server), texts.Server);
            if (texts.Name is null)
            {
                return new ToolKeys(full.Key, server.Key, null, [full, server]);
            }

            var name = (cache.KeyOf(texts.Name), texts.Name);
            return new ToolKeys(full.Key, server.Key, name.Item1, [full, server, name]);
        }
    }

    private sealed class LexicalIndex
    {
        public LexicalIndex(CatalogTool[] tools, ToolSearchIndexOptions options)
        {
            Tools = tools;
            Index = new ToolSearchIndex(tools, options);
            Intents = [.. tools.Select(t => ToolSearchIntent.OfTool(t.Name))];
            Positions = new Dictionary<CatalogTool, int>(tools.Length, ReferenceEqualityComparer.Instance);
            for (var i = 0; i < tools.Length; i++)
            {
                Positions[tools[i]] = i;
            }
        }

        public CatalogTool[] Tools { get; }

        public ToolSearchIndex Index { get; }

        /// <summary>Gets each tool's action and name words, by position.</summary>
        public ToolIntent[] Intents { get; }

        public Dictionary<CatalogTool, int> Positions { get; }
    }

    private static partial class Log
    {
        [LoggerMessage(4601, LogLevel.Information, "Tool search: {Tools} tools ready, {Embedded} embedded now, in {Milliseconds:F0} ms")]
        public static partial void Embedded(ILogger logger, int tools, int embedded, double milliseconds);

        [LoggerMessage(4602, LogLevel.Warning, "Tool search embeddings are unavailable; search_tools ranks with BM25 only")]
        public static partial void EmbeddingsUnavailable(ILogger logger, Exception exception);

        [LoggerMessage(4605, LogLevel.Warning, "Could not embed the hub's tools in the background; searches embed what they need")]
        public static partial void WarmFailed(ILogger logger, Exception exception);
    }
}
