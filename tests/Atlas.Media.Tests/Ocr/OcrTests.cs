using Atlas.Media.Ocr;

namespace Atlas.Media.Tests.Ocr;

[Trait("Speed", "slow")]
public sealed class OcrTests(MediaFixture media) : IAsyncLifetime
{
    private readonly PipelineHarness _harness = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Ocr_RenderedDocument_ReadsTextWithLowCharacterErrorRate()
    {
        var result = await _harness.RunAsync(MediaTask.Ocr, media.TextPng);
        var cer = Tools.Cer(media.DocumentText, result.Ocr!.Text);
        Assert.True(cer < 0.02, $"CER {cer:P1}: {result.Ocr.Text}");
        Assert.Equal("tesseract", result.Ocr.Engine);
        Assert.Equal(0, result.Ocr.SkewDegrees);
        Assert.True(result.Ocr.MeanConfidence > 0.8);
        Assert.Equal(MediaDocumentWords, result.Ocr.Words.Count);
    }

    private static int MediaDocumentWords => MediaFixture.DocumentLines.Sum(l => l.Split(' ').Length);

    [Fact]
    public async Task Ocr_RotatedNoisyPhoto_IsDeskewedAndRead()
    {
        var result = await _harness.RunAsync(MediaTask.Ocr, media.PhotoJpg);
        var cer = Tools.Cer(media.DocumentText, result.Ocr!.Text);
        Assert.True(cer < 0.06, $"CER {cer:P1} (skew {result.Ocr.SkewDegrees}): {result.Ocr.Text}");
        Assert.InRange(Math.Abs(result.Ocr.SkewDegrees), 7.5, 10.5);
    }

    [Fact]
    public async Task Ocr_RotatedPhotoWithoutPreprocessing_ReadsFarWorse()
    {
        var raw = await _harness.RunAsync(MediaTask.Ocr, media.PhotoJpg, r => r with { Ocr = new OcrOptions { Engine = "tesseract", Preprocess = false } });
        var fixedUp = await _harness.RunAsync(MediaTask.Ocr, media.PhotoJpg, r => r with { Ocr = new OcrOptions { Engine = "tesseract" } });
        Assert.True(Tools.Cer(media.DocumentText, raw.Ocr!.Text) > Tools.Cer(media.DocumentText, fixedUp.Ocr!.Text));
    }

    [Fact]
    public async Task Ocr_SmallScreenshotText_IsUpscaledAndRead()
    {
        var result = await _harness.RunAsync(MediaTask.Ocr, media.SmallPng);
        var expected = string.Join('\n', MediaFixture.DocumentLines.Take(3));
        var cer = Tools.Cer(expected, result.Ocr!.Text);
        Assert.True(cer < 0.03, $"CER {cer:P1} (scale {result.Ocr.Scale}): {result.Ocr.Text}");
        Assert.True(result.Ocr.Scale > 1);
    }

    [Fact]
    public async Task Ocr_WordBoxes_AreInOriginalImageCoordinates()
    {
        var result = await _harness.RunAsync(MediaTask.Ocr, media.PhotoJpg);
        using var image = OpenCvSharp.Cv2.ImRead(media.PhotoJpg);
        var invoice = result.Ocr!.Words.First(w => w.Text.StartsWith("Invoice", StringComparison.Ordinal));
        var total = result.Ocr.Words.First(w => w.Text.StartsWith("Total", StringComparison.Ordinal));
        Assert.All(result.Ocr.Words, w => Assert.True(w.Box.X >= 0 && w.Box.Y >= 0 && w.Box.X + w.Box.Width <= image.Width && w.Box.Y + w.Box.Height <= image.Height));
        Assert.True(total.Box.Y > invoice.Box.Y, "the second line is below the first");
    }

    [Fact]
    public async Task Ocr_SceneEngine_ReadsLightTextOnDarkBackground()
    {
        var frame = Path.Combine(media.Directory, "scene.png");
        var settings = new ImageMagick.MagickReadSettings { Font = MediaFixture.BoldFont, FontPointsize = 64, BackgroundColor = ImageMagick.MagickColors.Navy, FillColor = ImageMagick.MagickColors.White };
        using (var image = new ImageMagick.MagickImage("label:EXIT 42 NORTH", settings))
        {
            image.BackgroundColor = ImageMagick.MagickColors.Navy;
            image.Extent(720, 360, ImageMagick.Gravity.Center);
            await image.WriteAsync(frame, ImageMagick.MagickFormat.Png, TestContext.Current.CancellationToken);
        }

        foreach (var engine in new[] { "ppocr", "auto" })
        {
            var result = await _harness.RunAsync(MediaTask.Ocr, frame, r => r with { Ocr = new OcrOptions { Engine = engine } });
            Assert.Contains("EXIT", result.Ocr!.Text, StringComparison.Ordinal);
            Assert.Contains("42", result.Ocr.Text, StringComparison.Ordinal);
            Assert.Contains("NORTH", result.Ocr.Text, StringComparison.Ordinal);
            if (engine == "ppocr")
            {
                Assert.Equal("ppocr", result.Ocr.Engine);
                Assert.True(result.Ocr.Lines[0].Box.Width > 200);
            }
        }
    }

    [Fact]
    public async Task Ocr_MissingLanguagePack_FailsNamingThePackage()
    {
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Ocr, media.TextPng, r => r with { Ocr = new OcrOptions { Language = "tlh" } }));
        Assert.Equal(MediaErrorCode.ToolMissing, ex.Code);
        Assert.Contains("tesseract-ocr-tlh", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ocr_InjectedLanguageArgument_IsRefused()
    {
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Ocr, media.TextPng, r => r with { Ocr = new OcrOptions { Language = "eng --tessdata-dir /tmp" } }));
        Assert.Equal(MediaErrorCode.InvalidRequest, ex.Code);
    }
}
