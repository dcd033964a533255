using System.Buffers.Binary;
using System.Text;

namespace Atlas.Media.Input;

/// <summary>
/// Decides the format of an upload from its bytes, never from its name. Text formats that make ffmpeg open other
/// files or URLs (HLS/DASH playlists, concat scripts, SDP) are recognised and refused explicitly.
/// </summary>
internal static class ContentSniffer
{
    /// <summary>How many leading bytes <see cref="Sniff"/> needs.</summary>
    public const int HeaderLength = 4096;

    private static readonly SniffedFormat Jpeg = new("jpeg", "image/jpeg", MediaKind.Image, null);
    private static readonly SniffedFormat Png = new("png", "image/png", MediaKind.Image, null);
    private static readonly SniffedFormat Gif = new("gif", "image/gif", MediaKind.Image, null);
    private static readonly SniffedFormat WebP = new("webp", "image/webp", MediaKind.Image, null);
    private static readonly SniffedFormat Bmp = new("bmp", "image/bmp", MediaKind.Image, null);
    private static readonly SniffedFormat Tiff = new("tiff", "image/tiff", MediaKind.Image, null);
    private static readonly SniffedFormat Heic = new("heic", "image/heic", MediaKind.Image, null);
    private static readonly SniffedFormat Avif = new("avif", "image/avif", MediaKind.Image, null);
    private static readonly SniffedFormat Mp4 = new("mp4", "video/mp4", MediaKind.Video, "mov");
    private static readonly SniffedFormat QuickTime = new("mov", "video/quicktime", MediaKind.Video, "mov");
    private static readonly SniffedFormat M4a = new("m4a", "audio/mp4", MediaKind.Audio, "mov");
    private static readonly SniffedFormat ThreeGp = new("3gp", "video/3gpp", MediaKind.Video, "mov");
    private static readonly SniffedFormat Matroska = new("matroska", "video/x-matroska", MediaKind.Video, "matroska");
    private static readonly SniffedFormat WebM = new("webm", "video/webm", MediaKind.Video, "matroska");
    private static readonly SniffedFormat Avi = new("avi", "video/x-msvideo", MediaKind.Video, "avi");
    private static readonly SniffedFormat MpegTs = new("mpegts", "video/mp2t", MediaKind.Video, "mpegts");
    private static readonly SniffedFormat Wav = new("wav", "audio/wav", MediaKind.Audio, "wav");
    private static readonly SniffedFormat Mp3 = new("mp3", "audio/mpeg", MediaKind.Audio, "mp3");
    private static readonly SniffedFormat Flac = new("flac", "audio/flac", MediaKind.Audio, "flac");
    private static readonly SniffedFormat Ogg = new("ogg", "audio/ogg", MediaKind.Audio, "ogg");
    private static readonly SniffedFormat Aac = new("aac", "audio/aac", MediaKind.Audio, "aac");
    private static readonly SniffedFormat Amr = new("amr", "audio/amr", MediaKind.Audio, "amr");

    /// <summary>Recognises the format or throws a <see cref="MediaException"/> that says why the bytes were refused.</summary>
    /// <param name="header">The first bytes of the file (up to <see cref="HeaderLength"/>).</param>
    /// <param name="totalLength">The file's length in bytes.</param>
    public static SniffedFormat Sniff(ReadOnlySpan<byte> header, long totalLength)
    {
        if (totalLength == 0 || header.IsEmpty)
        {
            throw new MediaException(MediaErrorCode.CorruptInput, "The file is empty.");
        }

        if (TrySniffBinary(header) is { } format)
        {
            return format;
        }

        if (DescribeReferencingText(header) is { } what)
        {
            throw new MediaException(MediaErrorCode.UnsafeInput,
                $"The file is {what}; such files make the decoder open other files or URLs and are refused. Upload the media file itself.");
        }

        throw new MediaException(MediaErrorCode.UnsupportedFormat,
            "The file is not a supported image, audio or video format (checked from its bytes, not its name). " +
            "Supported: JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC, AVIF; MP4/MOV/3GP, Matroska/WebM, AVI, MPEG-TS; WAV, MP3, M4A, FLAC, Ogg/Opus, AAC, AMR.");
    }

    private static SniffedFormat? TrySniffBinary(ReadOnlySpan<byte> h)
    {
        if (h.Length >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF)
        {
            return Jpeg;
        }

        if (h.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return Png;
        }

        if (h.StartsWith("GIF87a"u8) || h.StartsWith("GIF89a"u8))
        {
            return Gif;
        }

        if (h.Length >= 12 && h.StartsWith("RIFF"u8))
        {
            var type = h.Slice(8, 4);
            if (type.SequenceEqual("WEBP"u8))
            {
                return WebP;
            }

            if (type.SequenceEqual("WAVE"u8))
            {
                return Wav;
            }

            if (type.SequenceEqual("AVI "u8))
            {
                return Avi;
            }

            return null;
        }

        if (h.Length >= 14 && h[0] == (byte)'B' && h[1] == (byte)'M' && BinaryPrimitives.ReadUInt32LittleEndian(h[6..]) == 0)
        {
            return Bmp;
        }

        if (h.StartsWith("II*\0"u8) || h.StartsWith("MM\0*"u8))
        {
            return Tiff;
        }

        if (h.Length >= 12 && h.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            return SniffFtyp(h);
        }

        if (h.Length >= 8 && IsQuickTimeAtom(h.Slice(4, 4)))
        {
            return QuickTime;
        }

        if (h.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]))
        {
            return h.IndexOf("webm"u8) >= 0 ? WebM : Matroska;
        }

        if (h.StartsWith("fLaC"u8))
        {
            return Flac;
        }

        if (h.StartsWith("OggS"u8))
        {
            return Ogg;
        }

        if (h.StartsWith("#!AMR"u8))
        {
            return Amr;
        }

        if (h.StartsWith("ID3"u8))
        {
            return Mp3;
        }

        if (h.Length >= 2 && h[0] == 0xFF && (h[1] & 0xF6) == 0xF0)
        {
            return Aac; // ADTS sync word, layer 0
        }

        if (h.Length >= 2 && h[0] == 0xFF && (h[1] & 0xE0) == 0xE0 && (h[1] & 0x06) != 0)
        {
            return Mp3; // MPEG audio frame sync with a valid layer
        }

        if (IsMpegTs(h))
        {
            return MpegTs;
        }

        return null;
    }

    private static SniffedFormat? SniffFtyp(ReadOnlySpan<byte> h)
    {
        var boxSize = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(h), (uint)h.Length);
        var major = Encoding.ASCII.GetString(h.Slice(8, 4));
        var brands = new List<string> { major };
        for (var i = 16; i + 4 <= boxSize; i += 4)
        {
            brands.Add(Encoding.ASCII.GetString(h.Slice(i, 4)));
        }

        if (brands.Exists(b => b is "avif" or "avis"))
        {
            return Avif;
        }

        if (brands.Exists(b => b is "heic" or "heix" or "heim" or "heis" or "hevc" or "hevx" or "mif1" or "msf1"))
        {
            return Heic;
        }

        return major switch
        {
            "M4A " or "M4B " or "F4A " => M4a,
            "qt  " => QuickTime,
            _ when major.StartsWith("3g", StringComparison.Ordinal) => ThreeGp,
            _ => Mp4,
        };
    }

    private static bool IsQuickTimeAtom(ReadOnlySpan<byte> type) =>
        type.SequenceEqual("moov"u8) || type.SequenceEqual("mdat"u8) || type.SequenceEqual("wide"u8) ||
        type.SequenceEqual("free"u8) || type.SequenceEqual("skip"u8) || type.SequenceEqual("pnot"u8);

    private static bool IsMpegTs(ReadOnlySpan<byte> h)
    {
        const int Packet = 188;
        if (h.Length < Packet * 3)
        {
            return false;
        }

        for (var i = 0; i < h.Length; i += Packet)
        {
            if (h[i] != 0x47)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Names text formats that reference other resources, so the refusal can say what was found.</summary>
    private static string? DescribeReferencingText(ReadOnlySpan<byte> h)
    {
        var start = h;
        if (start.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            start = start[3..];
        }

        var text = Encoding.UTF8.GetString(start[..Math.Min(start.Length, 512)]).TrimStart();
        if (text.StartsWith("#EXTM3U", StringComparison.OrdinalIgnoreCase) || text.Contains("#EXT-X-", StringComparison.OrdinalIgnoreCase))
        {
            return "an HLS/M3U playlist";
        }

        if (text.StartsWith("ffconcat", StringComparison.OrdinalIgnoreCase) ||
            text.StartsWith("file ", StringComparison.Ordinal) || text.StartsWith("file '", StringComparison.Ordinal))
        {
            return "an ffmpeg concat script";
        }

        if (text.StartsWith("<?xml", StringComparison.Ordinal) && text.Contains("<MPD", StringComparison.Ordinal))
        {
            return "a DASH manifest";
        }

        if (text.StartsWith("v=0", StringComparison.Ordinal))
        {
            return "an SDP session description";
        }

        if (text.StartsWith("[playlist]", StringComparison.OrdinalIgnoreCase))
        {
            return "a PLS playlist";
        }

        if (text.StartsWith("<?xml", StringComparison.Ordinal) || text.StartsWith("<svg", StringComparison.OrdinalIgnoreCase))
        {
            return "an XML/SVG document (SVG can reference external files and is not accepted)";
        }

        return null;
    }

    /// <summary>
    /// Checks the end of a JPEG or PNG for its end marker, so a truncated upload fails clearly instead of being
    /// decoded into a half-grey picture.
    /// </summary>
    /// <param name="format">The sniffed format.</param>
    /// <param name="tail">The last bytes of the file (at least 32).</param>
    public static void CheckComplete(SniffedFormat format, ReadOnlySpan<byte> tail)
    {
        if (format.Name == "jpeg")
        {
            // EOI (FF D9), possibly followed by padding some cameras append.
            var trimmed = tail.TrimEnd((byte)0);
            if (trimmed.Length < 2 || trimmed[^2] != 0xFF || trimmed[^1] != 0xD9)
            {
                if (tail.IndexOf([(byte)0xFF, (byte)0xD9]) < 0)
                {
                    throw new MediaException(MediaErrorCode.CorruptInput,
                        "The JPEG is truncated: it has no end-of-image marker. Upload the complete file.");
                }
            }
        }
        else if (format.Name == "png")
        {
            if (tail.IndexOf("IEND"u8) < 0)
            {
                throw new MediaException(MediaErrorCode.CorruptInput,
                    "The PNG is truncated: it has no IEND chunk. Upload the complete file.");
            }
        }
    }
}
