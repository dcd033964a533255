namespace Atlas.Media.Context;

/// <summary>Options of the <see cref="MediaTask.Context"/> task (part of the cache key).</summary>
public sealed record ContextOptions
{
    /// <summary>Also ask the vision model for a description (needs an LLM client). Default: false.</summary>
    public bool IncludeDescription { get; init; }

    /// <summary>Longest context text in characters (500–50,000); longer OCR text and transcripts are cut. Default: 6,000.</summary>
    public int MaxLength { get; init; } = 6000;
}

/// <summary>A compact, plain-text "context card" an LLM can be given alongside a user's message.</summary>
public sealed record MediaContext
{
    /// <summary>The card: the media's facts, text and transcript in a few labelled sections.</summary>
    public required string Text { get; init; }

    /// <summary>True when OCR text or a transcript had to be cut to fit <see cref="ContextOptions.MaxLength"/>.</summary>
    public bool Truncated { get; init; }
}
