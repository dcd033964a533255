namespace Atlas.Media.Ocr;

/// <summary>
/// An OCR engine. Register more implementations in DI to add engines; <see cref="OcrOptions.Engine"/> selects one
/// by <see cref="Name"/>.
/// </summary>
public interface IOcrEngine
{
    /// <summary>The engine's name as used in <see cref="OcrOptions.Engine"/>.</summary>
    string Name { get; }

    /// <summary>A version string that changes whenever results may change (program and model versions); part of the cache key.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The version.</returns>
    ValueTask<string> GetVersionAsync(CancellationToken cancellationToken = default);

    /// <summary>Recognises text in an upright image file.</summary>
    /// <param name="imagePath">A PNG, JPEG, WebP, BMP or TIFF file with its EXIF orientation already applied.</param>
    /// <param name="options">The options.</param>
    /// <param name="cancellationToken">Cancels recognition (external processes are killed).</param>
    /// <returns>The text with boxes and confidences.</returns>
    Task<OcrResult> RecognizeAsync(string imagePath, OcrOptions options, CancellationToken cancellationToken = default);
}
