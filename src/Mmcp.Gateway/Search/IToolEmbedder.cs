namespace Mmcp.Gateway.Search;

/// <summary>Turns texts into unit-length sentence embeddings (CPU-bound; called off the request path where it can be).</summary>
internal interface IToolEmbedder
{
    /// <summary>Gets the model's identity; vectors of different models are never mixed (it is part of every cache key).</summary>
    string ModelId { get; }

    /// <summary>Gets the length of every vector.</summary>
    int Dimensions { get; }

    /// <summary>Gets the text put before a request when it is embedded (a retrieval model's query instruction; empty for none). Tool texts are embedded as they are.</summary>
    string QueryPrefix => "";

    /// <summary>Embeds a batch of texts.</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <returns>One L2-normalized vector per text, in order.</returns>
    float[][] Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken);
}
