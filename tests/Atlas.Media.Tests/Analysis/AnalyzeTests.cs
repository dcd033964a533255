using ImageMagick;

namespace Atlas.Media.Tests.Analysis;

[Trait("Speed", "slow")]
public sealed class AnalyzeTests(MediaFixture media) : IAsyncLifetime
{
    private readonly PipelineHarness _harness = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Analyze_QrCodeInPhoto_DecodesPayload()
    {
        var result = await _harness.RunAsync(MediaTask.Analyze, media.QrPhotoJpg);
        var code = Assert.Single(result.Image!.Codes);
        Assert.Equal("QR-Code", code.Symbology);
        Assert.Equal(media.QrPayload, code.Text);
    }

    [Fact]
    public async Task Analyze_Portrait_FindsOneFace()
    {
        var result = await _harness.RunAsync(MediaTask.Analyze, MediaFixture.FacePhoto);
        var face = Assert.Single(result.Image!.Faces!);
        Assert.True(face.Score > 0.75);
        Assert.InRange(face.Box.Width, 20, result.Image.Width / 2);
    }

    [Fact]
    public async Task Analyze_TextDocument_FindsNoFaceAndIsSharpAndBright()
    {
        var result = await _harness.RunAsync(MediaTask.Analyze, media.TextPng);
        var image = result.Image!;
        Assert.Empty(image.Faces!);
        Assert.False(image.IsBlurry);
        Assert.False(image.IsDark);
        Assert.Equal("#FFFFFF", image.Colors[0].Hex);
        Assert.Equal("png", image.Format);
        Assert.Equal(MediaKind.Image, result.Kind);
    }

    [Fact]
    public async Task Analyze_BlurredDarkImage_IsFlagged()
    {
        var path = Path.Combine(media.Directory, "dark-blur.jpg");
        using (var image = new MagickImage(media.TextPng))
        {
            image.GaussianBlur(0, 6);
            image.Evaluate(Channels.RGB, EvaluateOperator.Multiply, 0.12);
            await image.WriteAsync(path, MagickFormat.Jpeg, TestContext.Current.CancellationToken);
        }

        var result = await _harness.RunAsync(MediaTask.Analyze, path);
        Assert.True(result.Image!.IsBlurry, $"sharpness {result.Image.Sharpness}");
        Assert.True(result.Image.IsDark, $"brightness {result.Image.Brightness}");
    }

    [Fact]
    public async Task Analyze_ExifWithGpsAndOrientation_IsReadAndApplied()
    {
        var path = Path.Combine(media.Directory, "exif.jpg");
        using (var image = new MagickImage(MagickColors.OrangeRed, 300, 200))
        {
            var exif = new ExifProfile();
            exif.SetValue(ExifTag.Make, "Apple");
            exif.SetValue(ExifTag.Model, "iPhone 13");
            exif.SetValue(ExifTag.DateTimeOriginal, "2024:05:01 14:03:22");
            exif.SetValue(ExifTag.Orientation, (ushort)6);
            exif.SetValue(ExifTag.GPSLatitudeRef, "N");
            exif.SetValue(ExifTag.GPSLatitude, [new Rational(52, 1), new Rational(31, 1), new Rational(12, 1)]);
            exif.SetValue(ExifTag.GPSLongitudeRef, "E");
            exif.SetValue(ExifTag.GPSLongitude, [new Rational(13, 1), new Rational(24, 1), new Rational(18, 1)]);
            image.SetProfile(exif);
            image.Orientation = Orientation.RightTop;
            await image.WriteAsync(path, MagickFormat.Jpeg, TestContext.Current.CancellationToken);
        }

        var result = await _harness.RunAsync(MediaTask.Analyze, path);
        var exifInfo = result.Image!.Exif!;
        Assert.Equal("Apple", exifInfo.Make);
        Assert.Equal("iPhone 13", exifInfo.Model);
        Assert.Equal("2024-05-01 14:03:22", exifInfo.TakenAt);
        Assert.Equal(52.52, exifInfo.Latitude!.Value, 2);
        Assert.Equal(13.405, exifInfo.Longitude!.Value, 2);
        Assert.Equal(6, exifInfo.Orientation);
        Assert.Equal((200, 300), (result.Image.Width, result.Image.Height));
        Assert.StartsWith("#F", result.Image.Colors[0].Hex, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Analyze_HeicPhoto_IsDecodedThroughMagick()
    {
        // Magick.NET decodes HEIC but has no HEIC encoder; libheif's heif-enc makes the test file.
        var path = Path.Combine(media.Directory, "photo.heic");
        await Tools.RunAsync("heif-enc", ["-q", "80", "-o", path, media.TextPng]);

        var result = await _harness.RunAsync(MediaTask.Analyze, path);
        Assert.Equal("heic", result.Format);
        Assert.Equal("image/heic", result.ContentType);
        using var png = new MagickImage(media.TextPng);
        Assert.Equal(((int)png.Width, (int)png.Height), (result.Image!.Width, result.Image.Height));
    }

    [Fact]
    public async Task Analyze_Recording_ReportsStreamsAndDuration()
    {
        var result = await _harness.RunAsync(MediaTask.Analyze, media.VideoMp4);
        Assert.Equal(MediaKind.Video, result.Kind);
        Assert.InRange(result.Recording!.DurationSeconds, 5.5, 6.5);
        Assert.Contains(result.Recording.Streams, s => s.Type == "video" && s.Codec == "h264" && s.Width == 640);
        Assert.Contains(result.Recording.Streams, s => s.Type == "audio" && s.Codec == "aac");
    }
}
