using System.IO.Compression;
using System.Text;

namespace Atlas.Media.Tests.Input;

[Trait("Speed", "slow")]
public sealed class HostileInputTests(MediaFixture media) : IAsyncLifetime
{
    private readonly PipelineHarness _harness = new(o => o.MaxDuration = TimeSpan.FromMinutes(5));

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_harness.Root, name);
        Directory.CreateDirectory(_harness.Root);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("playlist.mp4", "#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")]
    [InlineData("list.mov", "ffconcat version 1.0\nfile '/etc/passwd'\nfile 'http://127.0.0.1:1/x.mp4'\n")]
    public async Task Submit_PlaylistOrConcatScriptNamedAsVideo_IsRefusedBeforeAnyToolRuns(string name, string content)
    {
        var path = Write(name, Encoding.UTF8.GetBytes(content));
        foreach (var task in new[] { MediaTask.Frames, MediaTask.Transcribe, MediaTask.Analyze })
        {
            var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(task, path));
            Assert.Equal(MediaErrorCode.UnsafeInput, ex.Code);
        }
    }

    [Fact]
    public async Task Submit_Mp4WhoseMoovIsReplacedByPlaylistText_FailsCleanly()
    {
        // An ftyp box followed by an HLS playlist: sniffed as MP4, but ffprobe must not follow anything.
        var ftyp = new byte[] { 0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m', 0, 0, 2, 0, (byte)'i', (byte)'s', (byte)'o', (byte)'m', (byte)'m', (byte)'p', (byte)'4', (byte)'1' };
        var path = Write("hybrid.mp4", [.. ftyp, .. Encoding.UTF8.GetBytes("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n")]);
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Analyze, path));
        Assert.Equal(MediaErrorCode.CorruptInput, ex.Code);
    }

    [Fact]
    public async Task Submit_DecompressionBombPng_IsRefusedFromItsHeader()
    {
        var path = Path.Combine(_harness.Root, "bomb.png");
        Directory.CreateDirectory(_harness.Root);
        WriteBombPng(path, 30_000, 30_000);
        Assert.True(new FileInfo(path).Length < 2 * 1024 * 1024, "the bomb is small on disk");
        foreach (var task in new[] { MediaTask.Analyze, MediaTask.Ocr })
        {
            var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(task, path));
            Assert.Equal(MediaErrorCode.TooManyPixels, ex.Code);
            Assert.Contains("30000×30000", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Submit_TruncatedJpeg_FailsAsCorrupt()
    {
        var bytes = await File.ReadAllBytesAsync(media.PhotoJpg, TestContext.Current.CancellationToken);
        var path = Write("truncated.jpg", bytes[..(bytes.Length / 2)]);
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Ocr, path));
        Assert.Equal(MediaErrorCode.CorruptInput, ex.Code);
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_TruncatedMp4_FailsAsCorrupt()
    {
        var bytes = await File.ReadAllBytesAsync(media.VideoMp4, TestContext.Current.CancellationToken);
        var path = Write("truncated.mp4", bytes[..(bytes.Length / 3)]);
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Frames, path));
        Assert.Equal(MediaErrorCode.CorruptInput, ex.Code);
    }

    [Fact]
    public async Task Submit_PngNamedMp4_IsProcessedAsAnImage()
    {
        var path = Write("not-a-video.mp4", await File.ReadAllBytesAsync(media.TextPng, TestContext.Current.CancellationToken));
        var result = await _harness.RunAsync(MediaTask.Ocr, path);
        Assert.Equal("png", result.Format);
        Assert.Contains("Northwind", result.Ocr!.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_LargerThanLimit_IsRefusedWhileReading()
    {
        await using var harness = new PipelineHarness(o => o.MaxInputBytes = 4096);
        var ex = await Assert.ThrowsAsync<MediaException>(() => harness.RunAsync(MediaTask.Analyze, media.TextPng));
        Assert.Equal(MediaErrorCode.TooLarge, ex.Code);
    }

    [Fact]
    public async Task Submit_LongerThanDurationLimit_IsRefused()
    {
        await using var harness = new PipelineHarness(o => o.MaxDuration = TimeSpan.FromSeconds(3));
        var ex = await Assert.ThrowsAsync<MediaException>(() => harness.RunAsync(MediaTask.Transcribe, media.VideoMp4));
        Assert.Equal(MediaErrorCode.TooLong, ex.Code);
    }

    [Fact]
    public async Task Submit_DeviceFile_IsRefused()
    {
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Analyze, "/dev/zero"));
        Assert.Equal(MediaErrorCode.InvalidRequest, ex.Code);
    }

    /// <summary>A valid 1-bit PNG of the given size whose pixels are all zero: tiny on disk, huge when decoded.</summary>
    private static void WriteBombPng(string path, int width, int height)
    {
        using var file = File.Create(path);
        file.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 1; // bit depth
        ihdr[9] = 0; // grayscale
        WriteChunk(file, "IHDR", ihdr);
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[1 + ((width + 7) / 8)];
            for (var y = 0; y < height; y++)
            {
                z.Write(row);
            }
        }

        WriteChunk(file, "IDAT", compressed.ToArray());
        WriteChunk(file, "IEND", []);
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        var crc = Crc32([.. typeBytes, .. data]);
        var crcBytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        s.Write(crcBytes);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
