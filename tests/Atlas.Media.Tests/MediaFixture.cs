using Atlas.Media.Tests;
using ImageMagick;
using QRCoder;

[assembly: AssemblyFixture(typeof(MediaFixture))]

namespace Atlas.Media.Tests;

/// <summary>Generates the test media once per run: rendered text, photographed variants, QR codes, speech and video.</summary>
public sealed class MediaFixture : IAsyncLifetime
{
    public const string Font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    public const string BoldFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    public const string FacePhoto = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";

    public static readonly string[] DocumentLines =
    [
        "Invoice 4821 from Northwind Traders",
        "Total due: 1,284.50 EUR by 2024-07-15",
        "Please transfer the amount to the account",
        "shown below and quote the invoice number.",
        "Questions? Write to billing@example.com",
    ];

    public static readonly string[] SpokenSentences =
    [
        "please pick up milk eggs bread and coffee on the way home",
        "the meeting has been moved to the large conference room on the third floor",
    ];

    public static readonly string[] SceneWords = ["ALPHA", "BRAVO", "CHARLIE"];

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "atlas-media-tests-" + Guid.NewGuid().ToString("N")[..8]);

    public string DocumentText => string.Join('\n', DocumentLines);

    public string TextPng => Path.Combine(Directory, "text.png");

    public string PhotoJpg => Path.Combine(Directory, "photo.jpg");

    public string SmallPng => Path.Combine(Directory, "small.png");

    public string QrPng => Path.Combine(Directory, "qr.png");

    public string QrPhotoJpg => Path.Combine(Directory, "qr-photo.jpg");

    public string SpeechWav => Path.Combine(Directory, "speech.wav");

    public string VideoMp4 => Path.Combine(Directory, "video.mp4");

    public string QrPayload => "https://example.com/order/4821?x=1";

    public async ValueTask InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        RenderText(DocumentLines, 40, TextPng);
        using (var photo = new MagickImage(TextPng))
        {
            photo.BackgroundColor = new MagickColor("#8a7560");
            photo.Rotate(9);
            photo.Resize(new Percentage(90));
            photo.GaussianBlur(0, 0.8);
            photo.AddNoise(NoiseType.Gaussian, 0.3);
            photo.Quality = 60;
            await photo.WriteAsync(PhotoJpg, MagickFormat.Jpeg, TestContext.Current.CancellationToken);
        }

        RenderText(DocumentLines.Take(3).ToArray(), 13, SmallPng, border: 10);

        using (var data = new QRCodeGenerator().CreateQrCode(QrPayload, QRCodeGenerator.ECCLevel.M))
        {
            await File.WriteAllBytesAsync(QrPng, new PngByteQRCode(data).GetGraphic(8), TestContext.Current.CancellationToken);
        }

        using (var qr = new MagickImage(QrPng))
        {
            qr.BorderColor = MagickColors.White;
            qr.Border(40);
            qr.BackgroundColor = MagickColors.White;
            qr.Rotate(17);
            qr.Resize(new Percentage(60));
            qr.GaussianBlur(0, 1.0);
            qr.Quality = 55;
            await qr.WriteAsync(QrPhotoJpg, MagickFormat.Jpeg, TestContext.Current.CancellationToken);
        }

        // Speech: flite's rms voice (pocketsphinx's domain; espeak-ng is not), converted to 16 kHz mono.
        var raw = Path.Combine(Directory, "speech-raw.wav");
        await Tools.RunAsync("flite", ["-voice", "rms", "-t", string.Join(". ", SpokenSentences), "-o", raw]);
        await Tools.RunAsync("ffmpeg", ["-v", "error", "-y", "-i", raw, "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", SpeechWav]);

        // Video: three 2-second scenes with a big caption each, and the speech as its audio track.
        var scenes = new[] { "navy", "darkgreen", "black" };
        var filter = string.Join(';', scenes.Select((c, i) =>
            $"color=c={c}:s=640x360:d=2:r=25,drawtext=fontfile={BoldFont}:text='{SceneWords[i]}':fontsize=72:fontcolor=white:x=(w-tw)/2:y=(h-th)/2[v{i}]"))
            + ";[v0][v1][v2]concat=n=3:v=1:a=0,format=yuv420p[v]";
        await Tools.RunAsync("ffmpeg", ["-v", "error", "-y", "-filter_complex", filter, "-i", SpeechWav, "-map", "[v]", "-map", "0:a", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-shortest", "-t", "6", VideoMp4]);
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    public static void RenderText(string[] lines, double pointSize, string path, int border = 50)
    {
        var settings = new MagickReadSettings
        {
            Font = Font,
            FontPointsize = pointSize,
            BackgroundColor = MagickColors.White,
            FillColor = MagickColors.Black,
        };
        using var image = new MagickImage("label:" + string.Join('\n', lines), settings);
        image.BorderColor = MagickColors.White;
        image.Border((uint)border);
        image.Write(path, MagickFormat.Png);
    }
}
