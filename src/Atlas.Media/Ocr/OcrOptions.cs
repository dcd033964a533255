namespace Atlas.Media.Ocr;

/// <summary>Options of the <see cref="MediaTask.Ocr"/> task (part of the cache key).</summary>
public sealed record OcrOptions
{
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

    /// <summary>Page layout hint for tesseract. Default: <see cref="OcrLayout.Auto"/>.</summary>
    public OcrLayout Layout { get; init; } = OcrLayout.Auto;
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
}
