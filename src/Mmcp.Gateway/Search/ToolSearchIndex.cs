using System.Text.Json;
using Mmcp.Gateway.Aggregation;

namespace Mmcp.Gateway.Search;

/// <summary>
/// An offline BM25F-style index over tool names, server ids, titles, descriptions and input-schema property names and
/// descriptions, for the <c>search_tools</c> meta-tool. Each field's words count as often as its weight in
/// <see cref="ToolSearchIndexOptions"/> (by default the tool's own name three times, the title twice, the rest once);
/// a request's verb synonyms take part at a lower weight. Built per catalog snapshot (hundreds of tools index in well
/// under a millisecond).
/// </summary>
internal sealed class ToolSearchIndex
{
    private const double K1 = 1.2;
    private const double B = 0.75;
    private readonly List<(CatalogTool Tool, Dictionary<string, int> Terms, int Length)> _documents = [];
    private readonly Dictionary<string, int> _documentFrequency = new(StringComparer.Ordinal);
    private readonly double _averageLength;
    private readonly ToolSearchIndexOptions _options;

    public ToolSearchIndex(IReadOnlyList<CatalogTool> tools, ToolSearchIndexOptions? options = null)
    {
        _options = options ?? ToolSearchIndexOptions.Default;
        foreach (var tool in tools)
        {
            var terms = new Dictionary<string, int>(StringComparer.Ordinal);
            var length = 0;
            void Add(string? text, int weight)
            {
                if (weight <= 0)
                {
                    return;
                }

                foreach (var term in ToolSearchText.Tokenize(text, _options.Stems))
                {
                    terms[term] = terms.GetValueOrDefault(term) + weight;
                    length += weight;
                }
            }

            var separator = tool.Name.IndexOf("__", StringComparison.Ordinal);
            Add(separator > 0 ? tool.Name[(separator + 2)..] : tool.Name, _options.NameField);
            Add(separator > 0 ? tool.Name[..separator] : null, _options.ServerField);
            Add(tool.Tool.Title, _options.TitleField);
            Add(tool.Tool.Description, _options.DescriptionField);
            if (tool.Tool.InputSchema.ValueKind == JsonValueKind.Object && tool.Tool.InputSchema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in properties.EnumerateObject())
                {
                    Add(property.Name, _options.ParameterField);
                    if (property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String)
                    {
                        Add(d.GetString(), _options.ParameterField);
                    }
                }
            }

            foreach (var term in terms.Keys)
            {
                _documentFrequency[term] = _documentFrequency.GetValueOrDefault(term) + 1;
            }

            _documents.Add((tool, terms, Math.Max(1, length)));
        }

        _averageLength = _documents.Count == 0 ? 1 : _documents.Average(d => d.Length);
    }

    public IReadOnlyList<(CatalogTool Tool, double Score)> Search(string query, int limit)
    {
        var queryTerms = QueryTerms(query, _options);
        var n = _documents.Count;
        var results = new List<(CatalogTool, double)>();
        foreach (var (tool, terms, length) in _documents)
        {
            double score = 0;
            foreach (var (term, weight) in queryTerms)
            {
                if (!terms.TryGetValue(term, out var tf))
                {
                    continue;
                }

                var df = _documentFrequency[term];
                var idf = Math.Log(1 + ((n - df + 0.5) / (df + 0.5)));
                score += weight * idf * (tf * (K1 + 1)) / (tf + (K1 * (1 - B + (B * length / _averageLength))));
            }

            if (score > 0)
            {
                results.Add((tool, score));
            }
        }

        return [.. results.OrderByDescending(r => r.Item2).ThenBy(r => r.Item1.Name, StringComparer.Ordinal).Take(limit)];
    }

    /// <summary>Splits into lower-case words at non-letters and camelCase boundaries; drops one-letter words and a few stop words; strips a plural 's'.</summary>
    internal static IEnumerable<string> Tokenize(string? text) => ToolSearchText.Tokenize(text, stems: false);

    /// <summary>The request's words with weight 1, and their synonyms (not in the request) with <see cref="ToolSearchIndexOptions.SynonymWeight"/>.</summary>
    internal static Dictionary<string, double> QueryTerms(string query, ToolSearchIndexOptions options)
    {
        var terms = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var term in ToolSearchText.Tokenize(query, options.Stems))
        {
            terms[term] = 1;
        }

        if (options.SynonymWeight > 0 && options.Stems)
        {
            foreach (var term in terms.Keys.ToList())
            {
                foreach (var synonym in ToolSearchText.SynonymsOf(term))
                {
                    terms.TryAdd(synonym, options.SynonymWeight);
                }
            }
        }

        return terms;
    }
}
