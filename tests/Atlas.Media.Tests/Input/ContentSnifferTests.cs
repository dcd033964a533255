using System.Text;
using Atlas.Media.Input;

namespace Atlas.Media.Tests.Input;

public sealed class ContentSnifferTests
{
    [Theory]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10 }, "jpeg")]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0 }, "png")]
    [InlineData(new byte[] { 0x1A, 0x45, 0xDF, 0xA3, 0, 0 }, "matroska")]
    [InlineData(new byte[] { (byte)'f', (byte)'L', (byte)'a', (byte)'C', 0 }, "flac")]
    public void Sniff_MagicBytes_RecognisesFormat(byte[] header, string expected)
    {
        Assert.Equal(expected, ContentSniffer.Sniff(header, header.Length).Name);
    }

    [Theory]
    [InlineData("ftypisom", "mp4", MediaKind.Video)]
    [InlineData("ftypM4A ", "m4a", MediaKind.Audio)]
    [InlineData("ftypheic", "heic", MediaKind.Image)]
    [InlineData("ftypavif", "avif", MediaKind.Image)]
    [InlineData("ftypqt  ", "mov", MediaKind.Video)]
    public void Sniff_IsoBaseMediaBrands_PickContainerOrImage(string box, string expected, MediaKind kind)
    {
        var header = new byte[32];
        header[3] = 24;
        Encoding.ASCII.GetBytes(box).CopyTo(header, 4);
        var format = ContentSniffer.Sniff(header, header.Length);
        Assert.Equal(expected, format.Name);
        Assert.Equal(kind, format.Kind);
    }

    [Theory]
    [InlineData("#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n", "HLS")]
    [InlineData("ffconcat version 1.0\nfile '/etc/passwd'\n", "concat")]
    [InlineData("file '/etc/passwd'\n", "concat")]
    [InlineData("<?xml version=\"1.0\"?><MPD><BaseURL>http://x</BaseURL></MPD>", "DASH")]
    [InlineData("<svg xmlns=\"http://www.w3.org/2000/svg\"><image href=\"file:///etc/passwd\"/></svg>", "SVG")]
    public void Sniff_ReferencingTextFormats_AreRefusedAsUnsafe(string content, string named)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        var ex = Assert.Throws<MediaException>(() => ContentSniffer.Sniff(bytes, bytes.Length));
        Assert.Equal(MediaErrorCode.UnsafeInput, ex.Code);
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sniff_PlainText_IsUnsupported()
    {
        var bytes = "hello, this is not media"u8.ToArray();
        var ex = Assert.Throws<MediaException>(() => ContentSniffer.Sniff(bytes, bytes.Length));
        Assert.Equal(MediaErrorCode.UnsupportedFormat, ex.Code);
    }

    [Fact]
    public void Sniff_Empty_IsCorrupt()
    {
        Assert.Equal(MediaErrorCode.CorruptInput, Assert.Throws<MediaException>(() => ContentSniffer.Sniff([], 0)).Code);
    }

    [Fact]
    public void CheckComplete_JpegWithoutEndMarker_IsCorrupt()
    {
        var jpeg = ContentSniffer.Sniff([0xFF, 0xD8, 0xFF, 0xE0], 4);
        var ex = Assert.Throws<MediaException>(() => ContentSniffer.CheckComplete(jpeg, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
        Assert.Equal(MediaErrorCode.CorruptInput, ex.Code);
        ContentSniffer.CheckComplete(jpeg, new byte[] { 1, 2, 0xFF, 0xD9, 0, 0 });
    }
}
