using System.Text.Json;
using Mmcp.Gateway.Aggregation;

namespace Mmcp.Gateway.Search;

/// <summary>
/// An offline BM25 index over tool names, descriptions and input-schema property names and descriptions, for the
/// <c>search_tools</c> meta-tool. Names weigh three times, schema words once, description words once. Built per
/// catalog snapshot (hundreds of tools index in well under a millisecond).
/// </summary>
internal sealed class ToolSearchIndex
{
    private const double K1 = 1.2;
    private const double B = 0.75;
    private readonly List<(CatalogTool Tool, Dictionary<string, int> Terms, int Length)> _documents = [];
    private readonly Dictionary<string, int> _documentFrequency = new(StringComparer.Ordinal);
    private readonly double _averageLength;

    public ToolSearchIndex(IReadOnlyList<CatalogTool> tools)
    {
        foreach (var tool in tools)
        {
            var terms = new Dictionary<string, int>(StringComparer.Ordinal);
            var length = 0;
            void Add(string? text, int weight)
            {
                foreach (var term in Tokenize(text))
                {
                    terms[term] = terms.GetValueOrDefault(term) + weight;
                    length += weight;
                }
            }

            Add(tool.Name, 3);
            Add(tool.Tool.Title, 2);
            Add(tool.Tool.Description, 1);
            if (tool.Tool.InputSchema.ValueKind == JsonValueKind.Object && tool.Tool.InputSchema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in properties.EnumerateObject())
                {
                    Add(property.Name, 1);
                    if (property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String)
                    {
                        Add(d.GetString(), 1);
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
        var queryTerms = Tokenize(query).Distinct(StringComparer.Ordinal).ToList();
        var n = _documents.Count;
        var results = new List<(CatalogTool, double)>();
        foreach (var (tool, terms, length) in _documents)
        {
            double score = 0;
            foreach (var term in queryTerms)
            {
                if (!terms.TryGetValue(term, out var tf))
                {
                    continue;
                }

                var df = _documentFrequency[term];
                var idf = Math.Log(1 + ((n - df + 0.5) / (df + 0.5)));
                score += idf * (tf * (K1 + 1)) / (tf + (K1 * (1 - B + (B * length / _averageLength))));
            }

            if (score > 0)
            {
                results.Add((tool, score));
            }
        }

        return [.. results.OrderByDescending(r => r.Item2).ThenBy(r => r.Item1.Name, StringComparer.Ordinal).Take(limit)];
    }

    /// <summary>Splits into lower-case words at non-letters and camelCase boundaries; drops one-letter words and a few stop words; strips a plural 's'.</summary>
    internal static IEnumerable<string> Tokenize(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            yield break;
        }

        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var boundary = i == text.Length || !char.IsLetterOrDigit(text[i]) || (i > 0 && char.IsUpper(text[i]) && char.IsLower(text[i - 1]));
            if (boundary)
            {
                if (start >= 0 && i - start > 1)
                {
                    var word = text[start..i].ToLowerInvariant();
                    if (!StopWords.Contains(word))
                    {
                        yield return word.Length > 3 && word.EndsWith('s') && !word.EndsWith("ss", StringComparison.Ordinal) ? word[..^1] : word;
                    }
                }

                start = i < text.Length && char.IsLetterOrDigit(text[i]) ? i : -1;
            }
            else if (start < 0)
            {
                start = i;
            }
        }
    }

    private static readonly HashSet<string> StopWords = new(["the", "a", "an", "of", "to", "and", "or", "in", "on", "for", "is", "it", "be", "by", "with", "this", "that", "from", "as", "at"], StringComparer.Ordinal);
}
