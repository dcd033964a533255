namespace Atlas.Media.Analysis;

/// <summary>A face detector. Register another implementation in DI to replace BlazeFace.</summary>
public interface IFaceDetector
{
    /// <summary>The detector's name.</summary>
    string Name { get; }

    /// <summary>True when the detector's model is installed; when false, analysis reports faces as unknown.</summary>
    bool IsAvailable { get; }

    /// <summary>A version string that changes whenever results may change; part of the cache key.</summary>
    string Version { get; }

    /// <summary>Finds faces in an upright image file.</summary>
    /// <param name="imagePath">A PNG, JPEG, WebP or BMP file with its EXIF orientation already applied.</param>
    /// <param name="cancellationToken">Cancels detection.</param>
    /// <returns>The faces, best first.</returns>
    Task<IReadOnlyList<DetectedFace>> DetectAsync(string imagePath, CancellationToken cancellationToken = default);
}

/// <summary>A QR code and barcode reader. Register another implementation in DI to replace zbar.</summary>
public interface IBarcodeReader
{
    /// <summary>The reader's name.</summary>
    string Name { get; }

    /// <summary>A version string; part of the cache key.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The version.</returns>
    ValueTask<string> GetVersionAsync(CancellationToken cancellationToken = default);

    /// <summary>Decodes every code in an upright image file.</summary>
    /// <param name="imagePath">A PNG, JPEG, WebP or BMP file.</param>
    /// <param name="cancellationToken">Cancels decoding.</param>
    /// <returns>The codes found (empty when none).</returns>
    Task<IReadOnlyList<DecodedCode>> DecodeAsync(string imagePath, CancellationToken cancellationToken = default);
}
