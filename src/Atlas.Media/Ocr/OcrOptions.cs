namespace Atlas.Media.Ocr;

/// <summary>Options of the <see cref="MediaTask.Ocr"/> task (part of the cache key).</summary>
public sealed record OcrOptions
{
    /// <summary>The default of <see cref="MinLineConfidence"/>.</summary>
    public const double DefaultMinLineConfidence = 0.4;

    /// <summary>Tesseract language codes joined by '+', e.g. <c>eng</c> or <c>eng+deu</c>. Default: <c>eng</c>.</summary>
    public string Language { get; init; } = "eng";

    /// <summary>
    /// Engine name: <c>auto</c> (tesseract for documents and screenshots, falling back to the scene-text engine when
    /// tesseract's confidence is low), <c>tesseract</c>, or <c>ppocr</c> (PP-OCRv4 ONNX, for photos of signs, screens
    /// and video frames). Default: <c>auto</c>.
    /// </summary>
    public string Engine { get; init; } = "auto";

    /// <summary>Deskew and upscale before tesseract (needed for phone photos). Default: true.</summary>
    public bool Preprocess { get; init; } = true;

    /// <summary>
    /// Page layout for tesseract (its page segmentation mode): <c>Auto</c> 3, <c>Block</c> 6, <c>Sparse</c> 11,
    /// <c>Column</c> 4, <c>Line</c> 7. Other values are refused as <c>invalid_request</c>. Default: <see cref="OcrLayout.Auto"/>.
    /// </summary>
    public OcrLayout Layout { get; init; } = OcrLayout.Auto;

    /// <summary>
    /// Lines whose mean word confidence is below this (0–1), or that hold no letter or digit, are left out of
    /// <see cref="OcrResult.Text"/> (and so of the context card) but stay in <see cref="OcrResult.Lines"/> with their
    /// confidence and <see cref="OcrLine.Omitted"/> set: the junk tesseract reads in the edges of a photographed page
    /// scores 0–0.2, real text above 0.6. Tesseract only. Default: 0.4; 0 keeps every line with a letter or digit.
    /// </summary>
    public double MinLineConfidence { get; init; } = DefaultMinLineConfidence;
}

/// <summary>Page layout hint for document OCR.</summary>
public enum OcrLayout
{
    /// <summary>Automatic page segmentation (documents, screenshots).</summary>
    Auto,

    /// <summary>One uniform block of text.</summary>
    Block,

    /// <summary>Scattered text in no particular order (UI, frames).</summary>
    Sparse,

    /// <summary>One column of lines of varying size (a receipt, a narrow photo of a page).</summary>
    Column,

    /// <summary>A single line of text (a label, a caption strip).</summary>
    Line,
}
