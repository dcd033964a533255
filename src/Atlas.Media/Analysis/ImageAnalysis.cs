namespace Atlas.Media.Analysis;

/// <summary>Facts about a still image, computed locally.</summary>
public sealed record ImageAnalysis
{
    /// <summary>Format sniffed from the bytes (<c>jpeg</c>, <c>png</c>, <c>heic</c>, …).</summary>
    public required string Format { get; init; }

    /// <summary>Width of the upright image in pixels.</summary>
    public int Width { get; init; }

    /// <summary>Height of the upright image in pixels.</summary>
    public int Height { get; init; }

    /// <summary>Camera and capture metadata, when the file has EXIF.</summary>
    public ExifInfo? Exif { get; init; }

    /// <summary>Mean luminance, 0 (black) to 255 (white).</summary>
    public double Brightness { get; init; }

    /// <summary>Standard deviation of luminance (contrast).</summary>
    public double Contrast { get; init; }

    /// <summary>Variance of the Laplacian on a ≤1024-pixel copy: high is sharp, below ~100 is blurry.</summary>
    public double Sharpness { get; init; }

    /// <summary>True when the image is very dark.</summary>
    public bool IsDark { get; init; }

    /// <summary>True when the image is washed out.</summary>
    public bool IsOverexposed { get; init; }

    /// <summary>True when the image is blurry.</summary>
    public bool IsBlurry { get; init; }

    /// <summary>Dominant colours, most frequent first.</summary>
    public IReadOnlyList<DominantColor> Colors { get; init; } = [];

    /// <summary>64-bit DCT perceptual hash in hex; near-duplicates differ in at most ~8 bits.</summary>
    public required string PerceptualHash { get; init; }

    /// <summary>QR codes and barcodes found.</summary>
    public IReadOnlyList<DecodedCode> Codes { get; init; } = [];

    /// <summary>Faces found (null when no face model is installed).</summary>
    public IReadOnlyList<DetectedFace>? Faces { get; init; }
}

/// <summary>A dominant colour.</summary>
public sealed record DominantColor
{
    /// <summary>The colour as <c>#RRGGBB</c>.</summary>
    public required string Hex { get; init; }

    /// <summary>Share of the image, 0–1.</summary>
    public double Fraction { get; init; }
}

/// <summary>A decoded QR code or barcode.</summary>
public sealed record DecodedCode
{
    /// <summary>Symbology (<c>QR-Code</c>, <c>EAN-13</c>, <c>CODE-128</c>, …).</summary>
    public required string Symbology { get; init; }

    /// <summary>The payload as text: UTF-8 when the bytes are valid UTF-8, else each byte as one Latin-1 character.</summary>
    public required string Text { get; init; }

    /// <summary>The payload bytes in base64, set only when they are not valid UTF-8 text (binary payloads).</summary>
    public string? Base64 { get; init; }

    /// <summary>Which way the code faces in the image (<c>up</c>, <c>right</c>, <c>down</c>, <c>left</c>), when known.</summary>
    public string? Orientation { get; init; }
}

/// <summary>A detected face.</summary>
public sealed record DetectedFace
{
    /// <summary>Where the face is.</summary>
    public required PixelBox Box { get; init; }

    /// <summary>Detector score, 0–1.</summary>
    public double Score { get; init; }
}

/// <summary>Camera and capture metadata from EXIF.</summary>
public sealed record ExifInfo
{
    /// <summary>Camera maker.</summary>
    public string? Make { get; init; }

    /// <summary>Camera model.</summary>
    public string? Model { get; init; }

    /// <summary>Software that wrote the file.</summary>
    public string? Software { get; init; }

    /// <summary>Capture time as recorded (camera local time, <c>yyyy-MM-dd HH:mm:ss</c>).</summary>
    public string? TakenAt { get; init; }

    /// <summary>EXIF orientation, 1–8 (already applied to width, height and boxes).</summary>
    public int? Orientation { get; init; }

    /// <summary>GPS latitude in degrees.</summary>
    public double? Latitude { get; init; }

    /// <summary>GPS longitude in degrees.</summary>
    public double? Longitude { get; init; }

    /// <summary>Exposure time as recorded (e.g. <c>1/120 sec</c>).</summary>
    public string? ExposureTime { get; init; }

    /// <summary>Aperture as recorded (e.g. <c>f/1.8</c>).</summary>
    public string? FNumber { get; init; }

    /// <summary>ISO speed.</summary>
    public int? Iso { get; init; }

    /// <summary>Focal length as recorded.</summary>
    public string? FocalLength { get; init; }
}
