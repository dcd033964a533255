namespace Atlas.Media.Ocr;

/// <summary>Text found in an image.</summary>
public sealed record OcrResult
{
    /// <summary>The engine that produced the result (<c>tesseract</c>, <c>ppocr</c>).</summary>
    public required string Engine { get; init; }

    /// <summary>The text in reading order; lines separated by '\n', blocks by an empty line.</summary>
    public required string Text { get; init; }

    /// <summary>Mean confidence of the words in <see cref="Text"/>, 0–1 (0 when no text was found).</summary>
    public double MeanConfidence { get; init; }

    /// <summary>Lines in reading order with their boxes and confidences, including those left out of <see cref="Text"/>.</summary>
    public IReadOnlyList<OcrLine> Lines { get; init; } = [];

    /// <summary>Words with their boxes and confidences (for <c>ppocr</c> the word boxes are proportional splits of the line box).</summary>
    public IReadOnlyList<OcrWord> Words { get; init; } = [];

    /// <summary>The rotation in degrees that was corrected before recognition (0 when none).</summary>
    public double SkewDegrees { get; init; }

    /// <summary>The upscaling factor applied before recognition (1 when none).</summary>
    public double Scale { get; init; } = 1;
}

/// <summary>One recognised line.</summary>
public sealed record OcrLine
{
    /// <summary>The line's text.</summary>
    public required string Text { get; init; }

    /// <summary>Confidence, 0–1.</summary>
    public double Confidence { get; init; }

    /// <summary>Where the line is in the upright image.</summary>
    public required PixelBox Box { get; init; }

    /// <summary>True when the line is left out of <see cref="OcrResult.Text"/> (below <see cref="OcrOptions.MinLineConfidence"/>, or no letter or digit).</summary>
    public bool? Omitted { get; init; }
}

/// <summary>One recognised word.</summary>
public sealed record OcrWord
{
    /// <summary>The word.</summary>
    public required string Text { get; init; }

    /// <summary>Confidence, 0–1.</summary>
    public double Confidence { get; init; }

    /// <summary>Where the word is in the upright image.</summary>
    public required PixelBox Box { get; init; }
}
