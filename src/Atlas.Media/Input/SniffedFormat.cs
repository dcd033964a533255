namespace Atlas.Media.Input;

/// <summary>A media format recognised from the first bytes of a file.</summary>
/// <param name="Name">Short format name (<c>jpeg</c>, <c>png</c>, <c>mp4</c>, …).</param>
/// <param name="MimeType">The MIME type reported to callers.</param>
/// <param name="Kind">Image for still-image formats; for containers the probe decides between video and audio.</param>
/// <param name="Demuxer">The ffmpeg demuxer forced for this format (never auto-detected), or null for images.</param>
internal sealed record SniffedFormat(string Name, string MimeType, MediaKind Kind, string? Demuxer)
{
    public bool IsImage => Kind == MediaKind.Image;

    /// <summary>Image formats that OpenCV cannot decode and Magick.NET handles (HEIC/AVIF/GIF/TIFF).</summary>
    public bool NeedsMagick => Name is "heic" or "avif" or "gif" or "tiff";
}
