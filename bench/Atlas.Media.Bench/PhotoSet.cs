using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Atlas.Media;
using ImageMagick;

/// <summary>
/// The photo-like six-line set: one six-line page rendered and "photographed" 16 ways (3–8° either way, page edge and
/// table in the frame, uneven light, perspective, blur, noise, JPEG), each read by bare tesseract (psm 3, the default)
/// and by the pipeline, scored by CER and WER against the known text.
/// </summary>
internal static partial class PhotoSet
{
    public static readonly string[] Lines =
    [
        "Invoice 4821 from Northwind Traders",
        "12 Harbour Road, Port Elliot 5212",
        "Total due: 1,284.50 EUR by 2024-07-15",
        "Please transfer the amount to the account",
        "shown below and quote the invoice number.",
        "Questions? Write to billing@example.com",
    ];

    private const string Font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

    public static string Reference => string.Join('\n', Lines);

    /// <summary>Writes the 16 variants and returns their paths.</summary>
    public static IReadOnlyList<string> Create(string dir)
    {
        double[] angles = [3, -4, 5, -3, 6, -5, 4, -6, 7, -7, 8, -8, 3.5, -4.5, 5.5, -3.5];
        var paths = new List<string>();
        using var page = new MagickImage("label:" + Reference, new MagickReadSettings { Font = Font, FontPointsize = 34, BackgroundColor = MagickColors.White, FillColor = MagickColors.Black });
        for (var i = 0; i < angles.Length; i++)
        {
            using var image = (MagickImage)page.Clone();
            image.BorderColor = new MagickColor("#f4f1ea");
            image.Border((uint)(40 + (10 * (i % 3))));
            if (i % 2 == 1)
            {
                // A little perspective: the phone was not held parallel to the page.
                var w = image.Width;
                var h = image.Height;
                var d = 0.03 * w;
                image.VirtualPixelMethod = VirtualPixelMethod.Background;
                image.BackgroundColor = new MagickColor("#8a7560");
                image.Distort(DistortMethod.Perspective, [0, 0, d, 0, w, 0, w - (d / 2), d / 2, w, h, w, h, 0, h, 0, h - d]);
            }

            image.BackgroundColor = new MagickColor(i % 4 == 0 ? "#8a7560" : i % 4 == 1 ? "#5b4a3a" : i % 4 == 2 ? "#9a9a92" : "#6d5f52");
            image.Rotate(angles[i]);
            if (i % 3 == 0)
            {
                // Uneven light: darker towards one corner.
                using var light = new MagickImage("gradient:white-#9c9c9c", image.Width, image.Height);
                light.Rotate(30 * (i % 4));
                light.Resize(new MagickGeometry(image.Width, image.Height) { IgnoreAspectRatio = true });
                image.Composite(light, CompositeOperator.Multiply);
            }

            image.Resize(new Percentage(75 + (5 * (i % 5))));
            image.GaussianBlur(0, 0.6 + (0.1 * (i % 5)));
            image.AddNoise(NoiseType.Gaussian, 0.2 + (0.05 * (i % 4)));
            image.Quality = (uint)(50 + (5 * (i % 4)));
            var path = Path.Combine(dir, $"photo6-{i:00}.jpg");
            image.Write(path, MagickFormat.Jpeg);
            paths.Add(path);
        }

        return paths;
    }

    /// <summary>Runs both readers over every variant; prints one line per variant and returns the summary rows.</summary>
    public static async Task<IReadOnlyList<string>> RunAsync(MediaPipeline pipeline, IReadOnlyList<string> photos)
    {
        var bare = new List<(double Cer, double Wer, double Seconds)>();
        var piped = new List<(double Cer, double Wer, double Seconds)>();
        Console.WriteLine();
        Console.WriteLine("| variant | bare CER | pipeline CER | pipeline skew |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var photo in photos)
        {
            var sw = Stopwatch.StartNew();
            var text = await Tesseract(photo);
            var bareSeconds = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var result = await pipeline.ProcessAsync(new MediaRequest { Task = MediaTask.Ocr, FilePath = photo, BypassCache = true });
            var pipeSeconds = sw.Elapsed.TotalSeconds;
            bare.Add((Cer(Reference, text), Wer(Reference, text), bareSeconds));
            piped.Add((Cer(Reference, result.Ocr!.Text), Wer(Reference, result.Ocr.Text), pipeSeconds));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {Path.GetFileName(photo)} | {bare[^1].Cer:P1} | {piped[^1].Cer:P1} | {result.Ocr.SkewDegrees} |"));
            if (Environment.GetEnvironmentVariable("BENCH_VERBOSE") == "1" && piped[^1].Cer > 0.025)
            {
                Console.WriteLine(result.Ocr.Text);
            }
        }

        string Row(string name, List<(double Cer, double Wer, double Seconds)> r) => string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {Median(r.Select(x => x.Cer)):P1} | {r.Average(x => x.Cer):P1} | {Median(r.Select(x => x.Wer)):P1} | {r.Count(x => x.Cer <= 0.025)} of {r.Count} | {Median(r.Select(x => x.Seconds)):0.00} |");
        return
        [
            "| photo-like six-line set (16 variants) | median CER | mean CER | median WER | CER ≤ 2.5 % | median s/image |",
            "|---|---|---|---|---|---|",
            Row("bare tesseract (psm 3)", bare),
            Row("pipeline (ocr, auto)", piped),
        ];
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static async Task<string> Tesseract(string path)
    {
        var psi = new ProcessStartInfo("tesseract") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["OMP_THREAD_LIMIT"] = "1";
        foreach (var a in new[] { path, "stdout", "-l", "eng", "--psm", "3" })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        await stderr;
        return await stdout;
    }

    public static double Cer(string reference, string hypothesis)
    {
        var r = Spaces().Replace(reference, " ").Trim();
        var h = Spaces().Replace(hypothesis, " ").Trim();
        return Levenshtein(r.ToCharArray(), h.ToCharArray()) / (double)Math.Max(1, r.Length);
    }

    public static double Wer(string reference, string hypothesis)
    {
        string[] Words(string s) => NonWord().Replace(s.ToLowerInvariant(), " ").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var r = Words(reference);
        return Levenshtein(r, Words(hypothesis)) / (double)Math.Max(1, r.Length);
    }

    private static int Levenshtein<T>(T[] a, T[] b)
    {
        var prev = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var cur = new int[b.Length + 1];
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                cur[j] = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + (Equals(a[i - 1], b[j - 1]) ? 0 : 1));
            }

            prev = cur;
        }

        return prev[b.Length];
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"[^a-z0-9' ]")]
    private static partial Regex NonWord();
}
