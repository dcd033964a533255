namespace Atlas.Media;

/// <summary>An axis-aligned rectangle in pixels of the upright image (EXIF orientation applied).</summary>
public sealed record PixelBox
{
    /// <summary>Left edge.</summary>
    public int X { get; init; }

    /// <summary>Top edge.</summary>
    public int Y { get; init; }

    /// <summary>Width.</summary>
    public int Width { get; init; }

    /// <summary>Height.</summary>
    public int Height { get; init; }

    /// <summary>Creates a box.</summary>
    /// <param name="x">Left edge.</param>
    /// <param name="y">Top edge.</param>
    /// <param name="width">Width.</param>
    /// <param name="height">Height.</param>
    /// <returns>The box.</returns>
    public static PixelBox Of(int x, int y, int width, int height) => new() { X = x, Y = y, Width = width, Height = height };
}
