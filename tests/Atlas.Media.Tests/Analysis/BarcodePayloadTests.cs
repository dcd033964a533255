using ImageMagick;
using QRCoder;

namespace Atlas.Media.Tests.Analysis;

/// <summary>QR payloads come back byte for byte (zbar 0.23.92's <c>--xml</c> base64 mangles non-ASCII data).</summary>
[Trait("Speed", "slow")]
public sealed class BarcodePayloadTests(MediaFixture media) : IAsyncLifetime
{
    private const string Utf8Text = "Hello, QR 👋 Grüße";
    private const string MultiLineText = "line one\nline two 👋";
    private static readonly byte[] Binary = [0, 1, 2, 0xff, 0xfe, 0x80, 10, 13, 0x41, 0xc3];

    private readonly PipelineHarness _harness = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    /// <summary>Regression: "Hello, QR 👋 Grüße" came back as "Hello, QR����� ������e".</summary>
    [Fact]
    [Trait("Issue11", "2")]
    public async Task Analyze_Utf8QrCode_PayloadIsIntact()
    {
        var path = Write("utf8.png", Qr(Utf8Text));
        var result = await _harness.RunAsync(MediaTask.Analyze, path);
        var code = Assert.Single(result.Image!.Codes);
        Assert.Equal("QR-Code", code.Symbology);
        Assert.Equal(Utf8Text, code.Text);
        Assert.Null(code.Base64);
    }

    /// <summary>A binary payload (not UTF-8) keeps every byte, reported as base64.</summary>
    [Fact]
    [Trait("Issue11", "2")]
    public async Task Analyze_BinaryQrCode_BytesAreIntactAsBase64()
    {
        var path = Write("binary.png", Qr(Binary));
        var result = await _harness.RunAsync(MediaTask.Analyze, path);
        var code = Assert.Single(result.Image!.Codes);
        Assert.Equal(Convert.ToBase64String(Binary), code.Base64);
    }

    /// <summary>Several codes in one image: each payload intact and in its own entry, with symbology and orientation.</summary>
    [Fact]
    [Trait("Issue11", "2")]
    public async Task Analyze_SeveralCodesInOneImage_EachPayloadIsIntactInItsOwnEntry()
    {
        var path = Path.Combine(media.Directory, "multi-codes.png");
        using (var images = new MagickImageCollection())
        {
            foreach (var png in new[] { Qr(Utf8Text), Qr(Binary), Qr(MultiLineText) })
            {
                var image = new MagickImage(png);
                image.BorderColor = MagickColors.White;
                image.Border(30);
                images.Add(image);
            }

            using var strip = images.AppendHorizontally();
            await strip.WriteAsync(path, MagickFormat.Png, TestContext.Current.CancellationToken);
        }

        var result = await _harness.RunAsync(MediaTask.Analyze, path);
        var codes = result.Image!.Codes;
        Assert.Equal(3, codes.Count);
        Assert.All(codes, c => Assert.Equal("QR-Code", c.Symbology));
        Assert.All(codes, c => Assert.Equal("up", c.Orientation));
        Assert.Contains(codes, c => c.Text == Utf8Text);
        Assert.Contains(codes, c => c.Base64 == Convert.ToBase64String(Binary));
        Assert.Contains(codes, c => c.Text == MultiLineText);
    }

    private string Write(string name, byte[] png)
    {
        var path = Path.Combine(media.Directory, name);
        File.WriteAllBytes(path, png);
        return path;
    }

    private static byte[] Qr(string text)
    {
        using var data = new QRCodeGenerator().CreateQrCode(text, QRCodeGenerator.ECCLevel.M, forceUtf8: true);
        return new PngByteQRCode(data).GetGraphic(8);
    }

    private static byte[] Qr(byte[] bytes)
    {
        using var data = new QRCodeGenerator().CreateQrCode(bytes, QRCodeGenerator.ECCLevel.M);
        return new PngByteQRCode(data).GetGraphic(8);
    }
}
