using Atlas.Media.Input;
using ImageMagick;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using OpenCvSharp;

namespace Atlas.Media.Analysis;

/// <summary>
/// Decodes still images safely: the pixel count is read from the header and checked before any decoding
/// (decompression bombs), OpenCV decodes JPEG/PNG/WebP/BMP (applying EXIF orientation), Magick.NET decodes
/// HEIC/AVIF/GIF/TIFF with the format forced to the sniffed one, so it never picks a coder from the content.
/// </summary>
internal sealed class ImageLoader
{
    private static readonly Lock MagickInit = new();
    private static bool _magickConfigured;
    private readonly AtlasMediaOptions _options;

    public ImageLoader(AtlasMediaOptions options)
    {
        _options = options;
        lock (MagickInit)
        {
            if (!_magickConfigured)
            {
                ResourceLimits.Area = (ulong)Math.Max(options.MaxPixels, 4096);
                ResourceLimits.Width = 65_535;
                ResourceLimits.Height = 65_535;
                ResourceLimits.ListLength = 64;
                _magickConfigured = true;
            }
        }
    }

    /// <summary>Reads the pixel size from the header and refuses images over <see cref="AtlasMediaOptions.MaxPixels"/>.</summary>
    public (int Width, int Height) CheckSize(string path, SniffedFormat format)
    {
        (int Width, int Height) size;
        if (format.Name is "jpeg" or "png" && ImageHeader.TryReadSize(path) is { } header)
        {
            size = header;
        }
        else
        {
            try
            {
                var info = new MagickImageInfo(path, new MagickReadSettings { Format = MagickFormatOf(format) });
                size = ((int)Math.Min(info.Width, int.MaxValue), (int)Math.Min(info.Height, int.MaxValue));
            }
            catch (MagickException ex)
            {
                throw new MediaException(MediaErrorCode.CorruptInput, $"The {format.Name} image header could not be read; the file is corrupt or truncated.", ex);
            }
        }

        if (size.Width <= 0 || size.Height <= 0)
        {
            throw new MediaException(MediaErrorCode.CorruptInput, $"The {format.Name} image declares an empty size ({size.Width}×{size.Height}).");
        }

        if ((long)size.Width * size.Height > _options.MaxPixels)
        {
            throw new MediaException(MediaErrorCode.TooManyPixels,
                $"The image is {size.Width}×{size.Height} ({(long)size.Width * size.Height:N0} pixels); the limit is {_options.MaxPixels:N0} (Atlas:Media:MaxPixels). " +
                "Very large images are refused because decoding them can exhaust memory (decompression bombs); scale it down first.");
        }

        return size;
    }

    /// <summary>Decodes to an upright 8-bit BGR image.</summary>
    public Mat LoadBgr(string path, SniffedFormat format)
    {
        CheckSize(path, format);
        if (!format.NeedsMagick)
        {
            var mat = Cv2.ImRead(path, ImreadModes.Color);
            if (!mat.Empty())
            {
                return mat;
            }

            mat.Dispose();
        }

        try
        {
            using var image = new MagickImage(path, new MagickReadSettings { Format = MagickFormatOf(format), FrameIndex = 0, FrameCount = 1 });
            image.AutoOrient();
            image.Depth = 8;
            var bytes = image.ToByteArray(MagickFormat.Bgr);
            using var wrapped = Mat.FromPixelData((int)image.Height, (int)image.Width, MatType.CV_8UC3, bytes);
            return wrapped.Clone();
        }
        catch (MagickException ex)
        {
            throw new MediaException(MediaErrorCode.CorruptInput, $"The {format.Name} image could not be decoded; the file is corrupt or truncated.", ex);
        }
    }

    /// <summary>
    /// A file the external tools and engines can read with the picture upright: the staged file itself for plain
    /// JPEG/PNG/WebP/BMP, otherwise a PNG written into <paramref name="workDirectory"/>.
    /// </summary>
    public string EnsureUprightFile(string path, SniffedFormat format, string workDirectory, Mat? decoded = null)
    {
        CheckSize(path, format);
        if (!format.NeedsMagick && ExifOrientation(path) is null or 1)
        {
            return path;
        }

        var output = Path.Combine(workDirectory, "upright.png");
        if (File.Exists(output))
        {
            return output;
        }

        using var owned = decoded is null ? LoadBgr(path, format) : null;
        Cv2.ImWrite(output, decoded ?? owned!);
        return output;
    }

    /// <summary>The EXIF orientation tag (1–8), or null when absent or unreadable.</summary>
    public static int? ExifOrientation(string path)
    {
        try
        {
            var dirs = ImageMetadataReader.ReadMetadata(path);
            var ifd0 = dirs.OfType<ExifIfd0Directory>().FirstOrDefault();
            return ifd0 is not null && ifd0.TryGetInt32(ExifDirectoryBase.TagOrientation, out var o) ? o : null;
        }
        catch (Exception ex) when (ex is ImageProcessingException or IOException)
        {
            return null;
        }
    }

    private static MagickFormat MagickFormatOf(SniffedFormat format) => format.Name switch
    {
        "jpeg" => MagickFormat.Jpeg,
        "png" => MagickFormat.Png,
        "gif" => MagickFormat.Gif,
        "webp" => MagickFormat.WebP,
        "bmp" => MagickFormat.Bmp,
        "tiff" => MagickFormat.Tiff,
        "heic" => MagickFormat.Heic,
        "avif" => MagickFormat.Avif,
        _ => throw new MediaException(MediaErrorCode.UnsupportedFormat, $"{format.Name} is not an image format."),
    };
}
