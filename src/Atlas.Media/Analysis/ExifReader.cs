using System.Globalization;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;

namespace Atlas.Media.Analysis;

/// <summary>Reads camera, time, orientation and GPS metadata with MetadataExtractor.</summary>
internal static class ExifReader
{
    public static ExifInfo? Read(string path)
    {
        IReadOnlyList<MetadataExtractor.Directory> dirs;
        try
        {
            dirs = ImageMetadataReader.ReadMetadata(path);
        }
        catch (Exception ex) when (ex is ImageProcessingException or IOException)
        {
            return null;
        }

        var ifd0 = dirs.OfType<ExifIfd0Directory>().FirstOrDefault();
        var sub = dirs.OfType<ExifSubIfdDirectory>().FirstOrDefault();
        var gps = dirs.OfType<GpsDirectory>().FirstOrDefault()?.GetGeoLocation();
        if (ifd0 is null && sub is null && gps is null)
        {
            return null;
        }

        return new ExifInfo
        {
            Make = ifd0?.GetString(ExifDirectoryBase.TagMake)?.Trim(),
            Model = ifd0?.GetString(ExifDirectoryBase.TagModel)?.Trim(),
            Software = ifd0?.GetString(ExifDirectoryBase.TagSoftware)?.Trim(),
            TakenAt = TakenAt(sub, ifd0),
            Orientation = ifd0 is not null && ifd0.TryGetInt32(ExifDirectoryBase.TagOrientation, out var o) ? o : null,
            Latitude = gps is { } g1 ? Math.Round(g1.Latitude, 6) : null,
            Longitude = gps is { } g2 ? Math.Round(g2.Longitude, 6) : null,
            ExposureTime = sub?.GetDescription(ExifDirectoryBase.TagExposureTime),
            FNumber = sub?.GetDescription(ExifDirectoryBase.TagFNumber),
            Iso = sub is not null && sub.TryGetInt32(ExifDirectoryBase.TagIsoEquivalent, out var iso) ? iso : null,
            FocalLength = sub?.GetDescription(ExifDirectoryBase.TagFocalLength),
        };
    }

    private static string? TakenAt(ExifSubIfdDirectory? sub, ExifIfd0Directory? ifd0)
    {
        var raw = sub?.GetString(ExifDirectoryBase.TagDateTimeOriginal) ?? ifd0?.GetString(ExifDirectoryBase.TagDateTime);
        if (raw is null)
        {
            return null;
        }

        return DateTime.TryParseExact(raw.Trim(), "yyyy:MM:dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)
            ? t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : raw.Trim();
    }
}
