namespace Mmcp.Gateway.Search;

/// <summary>
/// The features of the <c>search_tools</c> ranking and their weights, in one place. A tool's score is
/// <list type="bullet">
/// <item><c>(1 − HeadWeight) × sim(request) + HeadWeight × sim(head)</c>, where <c>sim</c> is the cosine similarity
/// between the text's embedding and the tool's (the better of its full text's and its name's with
/// <see cref="NameVector"/>), and the head is the request's words before its first preposition or "that";</item>
/// <item><c>+ ServerWeight ×</c> the similarity between the request (or its head) and the tool's server name;</item>
/// <item><c>+ LexicalWeight ×</c> its BM25 score relative to the best one (<see cref="ToolSearchIndex"/>, with
/// <see cref="Lexical"/>'s field weights, stems and synonyms);</item>
/// <item><c>+ ActionWeight</c> when the request's verb and the tool name's verb ask for the same action,
/// <c>− ClashWeight</c> when one changes something and the other only reads, and <c>+ ObjectWordWeight ×</c> the share
/// of the tool name's other words found in the request in the exact form (<see cref="ToolSearchIntent"/>).</item>
/// </list>
/// With <see cref="ReciprocalRankK"/> above 0 the embedding and BM25 rankings are fused by reciprocal rank instead.
/// The defaults were chosen on the tune half of <c>bench/Mmcp.ToolSearch.Bench</c>'s requests and checked on the other.
/// </summary>
internal sealed record ToolSearchRanking
{
    /// <summary>Gets the ranking the gateway uses.</summary>
    public static ToolSearchRanking Default { get; } = new();

    /// <summary>Gets the weight of the request's head (the action, without the details: "remember" of "remember that Alice likes tea"); 0 (the default) embeds only the request, which halves a search's time (the head was worth one request of the bench's 203 with ArcticXs).</summary>
    public double HeadWeight { get; init; }

    /// <summary>Gets the weight of the similarity between the request and the tool's server name.</summary>
    public double ServerWeight { get; init; } = 0.3;

    /// <summary>Gets the weight of BM25 (relative to the best BM25 score of the search) in the weighted sum.</summary>
    public double LexicalWeight { get; init; } = 0.05;

    /// <summary>Gets the bonus when the request's action (its leading verb) is the tool name's (<see cref="ToolSearchIntent.SameAction"/>).</summary>
    public double ActionWeight { get; init; } = 0.03;

    /// <summary>Gets the penalty when one of the request and the tool changes something and the other only reads (<see cref="ToolSearchIntent.WriteReadClash"/>).</summary>
    public double ClashWeight { get; init; } = 0.03;

    /// <summary>Gets the weight of the share of the tool name's non-verb words found in the request, plural staying plural (<see cref="ToolSearchIntent.ObjectWordsFound"/>).</summary>
    public double ObjectWordWeight { get; init; } = 0.03;

    /// <summary>Gets a value indicating whether each tool also gets a vector of its name alone, the similarity being the better of the two (off: it cost top-3 on the bench).</summary>
    public bool NameVector { get; init; }

    /// <summary>Gets the constant of reciprocal rank fusion (score = Σ 1 / (K + rank)); 0 uses the weighted sum.</summary>
    public int ReciprocalRankK { get; init; }

    /// <summary>Gets the BM25 index's field weights and query normalization.</summary>
    public ToolSearchIndexOptions Lexical { get; init; } = ToolSearchIndexOptions.Default;
}

/// <summary>BM25F-style field weights (a word in a field counts this many times) and query normalization of <see cref="ToolSearchIndex"/>.</summary>
internal sealed record ToolSearchIndexOptions
{
    /// <summary>Gets the options the gateway uses.</summary>
    public static ToolSearchIndexOptions Default { get; } = new();

    /// <summary>Gets the weight of the tool's own name (without its server).</summary>
    public int NameField { get; init; } = 3;

    /// <summary>Gets the weight of the server id.</summary>
    public int ServerField { get; init; } = 3;

    /// <summary>Gets the weight of the title.</summary>
    public int TitleField { get; init; } = 2;

    /// <summary>Gets the weight of the description.</summary>
    public int DescriptionField { get; init; } = 1;

    /// <summary>Gets the weight of the input schema's property names and descriptions.</summary>
    public int ParameterField { get; init; } = 1;

    /// <summary>Gets a value indicating whether words are reduced to a stem (<see cref="ToolSearchText.Stem"/>: "edits", "edited", "editing" → "edit"), not only stripped of a plural 's'.</summary>
    public bool Stems { get; init; } = true;

    /// <summary>Gets the weight of a request word's synonyms (<see cref="ToolSearchText.SynonymsOf"/>: "make" also looks for "create"); 0 turns expansion off. Needs <see cref="Stems"/>.</summary>
    public double SynonymWeight { get; init; } = 0.5;
}
