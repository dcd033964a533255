// Atlas.Media benchmark: each task's time through the pipeline against the bare tool command on the same input,
// measured in the same run and printed as ratios (target: within 1.10x), plus cache-hit latency and throughput
// on this machine's cores. Run: dotnet run -c Release --project bench/Atlas.Media.Bench [-- --runs N]
using System.Diagnostics;
using System.Globalization;
using Atlas.Media;
using ImageMagick;
using QRCoder;

var cli = Bench.BenchArgs.Parse(args, """
    Usage: Atlas.Media.Bench [--runs N] [--photos-only]
      --runs N         runs per measurement, the median is printed (default 9)
      --photos-only    only the photo-like OCR set
      -h, --help       this text
    """, numbers: ["--runs"], switches: ["--photos-only"]);
if (cli.Exit is { } exit)
{
    return exit;
}

var runs = cli.Number("--runs", 9);
var photosOnly = cli.Has("--photos-only");
var dir = Path.Combine(Path.GetTempPath(), "atlas-media-bench-" + Environment.ProcessId);
Directory.CreateDirectory(dir);
try
{
    Console.WriteLine($"Atlas.Media benchmark — {Environment.ProcessorCount} cores, {runs} runs per measurement (median), {DateTime.UtcNow:yyyy-MM-dd}");
    // The photo-like six-line set: accuracy of bare tesseract vs the pipeline on 16 generated phone shots.
    IReadOnlyList<string> photoSummary;
    await using (var photoPipeline = NewPipeline(dir, "photos", 1))
    {
        photoSummary = await PhotoSet.RunAsync(photoPipeline, PhotoSet.Create(dir));
    }

    Console.WriteLine();
    foreach (var row in photoSummary)
    {
        Console.WriteLine(row);
    }

    if (photosOnly)
    {
        return 0;
    }

    var media = await BenchMedia.CreateAsync(dir);
    var results = new List<(string Name, double Baseline, double Pipeline, string Note)>();

    await using (var pipeline = NewPipeline(dir, "p1", 2))
    {
        // OCR on a clean document (no deskew needed): pipeline = stage + hash + sniff + skew analysis + tesseract + TSV parse.
        var (bare, task) = await Compare(runs,
            () => Exec("tesseract", [media.Document, "stdout", "-l", "eng", "--psm", "3", "tsv"]),
            () => pipeline.ProcessAsync(new MediaRequest { Task = MediaTask.Ocr, FilePath = media.Document, BypassCache = true }));
        var check = await pipeline.ProcessAsync(new MediaRequest { Task = MediaTask.Ocr, FilePath = media.Document, BypassCache = true });
        results.Add(("ocr (clean document)", bare, task, string.Create(CultureInfo.InvariantCulture, $"tesseract TSV, OMP_THREAD_LIMIT=1; skew {check.Ocr!.SkewDegrees}, scale {check.Ocr.Scale}")));

        var (bareFrames, taskFrames) = await Compare(runs, () => Exec("ffmpeg", ["-nostdin", "-loglevel", "error", "-i", media.Video, "-map", "0:v:0", "-vf", "select='eq(n\\,0)+gt(scene\\,0.3)',scale='min(1280,iw)':-2", "-fps_mode", "vfr", "-frames:v", "30", "-q:v", "3", "-y", Path.Combine(dir, "bare_%04d.jpg")]),
            () => pipeline.ProcessAsync(new MediaRequest { Task = MediaTask.Frames, FilePath = media.Video, BypassCache = true }));
        results.Add(("frames (scenes, 30 s 720p)", bareFrames, taskFrames, "pipeline adds ffprobe, showinfo, file moves into the cache"));

        var wav = Path.Combine(dir, "bare.wav");
        var (bareSpeech, taskSpeech) = await Compare(runs, async () =>
        {
            await Exec("ffmpeg", ["-nostdin", "-loglevel", "error", "-y", "-i", media.Speech, "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", wav]);
            await Exec("pocketsphinx_continuous", ["-infile", wav, "-time", "yes", "-logfn", "/dev/null"]);
        },
            () => pipeline.ProcessAsync(new MediaRequest { Task = MediaTask.Transcribe, FilePath = media.Speech, BypassCache = true }));
        results.Add(("transcribe (14 s speech)", bareSpeech, taskSpeech, "ffmpeg to 16 kHz WAV + pocketsphinx_continuous"));

        var (bareZbar, taskAnalyze) = await Compare(runs,
            () => Exec("zbarimg", ["--quiet", "--xml", media.Qr], okExit: [0, 4]),
            () => pipeline.ProcessAsync(new MediaRequest { Task = MediaTask.Analyze, FilePath = media.Qr, BypassCache = true }));
        results.Add(("analyze (QR photo) vs zbarimg alone", bareZbar, taskAnalyze, "analyze also decodes, measures, runs BlazeFace: not an overhead figure"));

        var (bareRaw, taskPhoto) = await Compare(runs,
            () => Exec("tesseract", [media.Photo, "stdout", "-l", "eng", "--psm", "3", "tsv"]),
            () => pipeline.ProcessAsync(new MediaRequest { Task = MediaTask.Ocr, FilePath = media.Photo, BypassCache = true }));
        results.Add(("ocr (rotated photo) vs raw tesseract", bareRaw, taskPhoto, "pipeline deskews + Sauvola: more work, far better text"));

        // Cache hits: the same request again, answered from the SQLite index + result file.
        await pipeline.ProcessAsync(new MediaRequest { Task = MediaTask.Ocr, FilePath = media.Document });
        var hits = new List<double>();
        for (var i = 0; i < 200; i++)
        {
            var sw = Stopwatch.StartNew();
            var r = await pipeline.ProcessAsync(new MediaRequest { Task = MediaTask.Ocr, FilePath = media.Document });
            hits.Add(sw.Elapsed.TotalMilliseconds);
            if (!r.FromCache)
            {
                throw new InvalidOperationException("expected a cache hit");
            }
        }

        hits.Sort();
        Console.WriteLine();
        Console.WriteLine("| task | bare tool (s) | pipeline (s) | ratio | note |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (name, b, p, note) in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {b:0.000} | {p:0.000} | {p / b:0.00}x | {note} |"));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cache hit (ocr, {new FileInfo(media.Document).Length / 1024} KB PNG): p50 {hits[hits.Count / 2]:0.00} ms, p99 {hits[(int)(hits.Count * 0.99)]:0.00} ms = {hits[hits.Count / 2] / 1000 / bare:0.000}x the bare tesseract run"));
    }

    // Throughput: 8 distinct OCR jobs with 1 worker, then with one worker per core.
    var copies = Enumerable.Range(0, 8).Select(i =>
    {
        var p = Path.Combine(dir, $"doc{i}.png");
        using var img = new MagickImage(media.Document);
        img.Evaluate(Channels.Red, EvaluateOperator.Add, i); // different bytes, same text
        img.Write(p);
        return p;
    }).ToArray();
    var throughput = new List<(int Workers, double Seconds)>();
    foreach (var workers in new[] { 1, Environment.ProcessorCount })
    {
        await using var pipeline = NewPipeline(dir, "t" + workers, workers);
        var sw = Stopwatch.StartNew();
        var jobs = new List<Task<MediaResult>>();
        foreach (var c in copies)
        {
            jobs.Add((await pipeline.SubmitAsync(new MediaRequest { Task = MediaTask.Ocr, FilePath = c, BypassCache = true })).Completion);
        }

        await Task.WhenAll(jobs);
        throughput.Add((workers, sw.Elapsed.TotalSeconds));
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"throughput (8 OCR jobs): 1 worker {8 / throughput[0].Seconds:0.00} jobs/s, {throughput[1].Workers} workers {8 / throughput[1].Seconds:0.00} jobs/s = {throughput[0].Seconds / throughput[1].Seconds:0.00}x"));
}
finally
{
    Directory.Delete(dir, recursive: true);
}

return 0;

static MediaPipeline NewPipeline(string dir, string name, int workers) => MediaPipeline.Create(new AtlasMediaOptions
{
    CacheDirectory = Path.Combine(dir, name, "cache"),
    WorkDirectory = Path.Combine(dir, name, "work"),
    MaxConcurrency = workers,
});

// Baseline and candidate alternate run by run, so load from other processes on this shared machine hits both alike.
static async Task<(double Baseline, double Candidate)> Compare(int runs, Func<Task> baseline, Func<Task> candidate)
{
    await baseline(); // warm-up
    await candidate();
    var a = new List<double>();
    var b = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        var sw = Stopwatch.StartNew();
        await baseline();
        a.Add(sw.Elapsed.TotalSeconds);
        sw.Restart();
        await candidate();
        b.Add(sw.Elapsed.TotalSeconds);
    }

    a.Sort();
    b.Sort();
    return (a[a.Count / 2], b[b.Count / 2]);
}

static async Task Exec(string program, string[] arguments, int[]? okExit = null)
{
    var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
    psi.Environment["OMP_THREAD_LIMIT"] = "1";
    foreach (var a in arguments)
    {
        psi.ArgumentList.Add(a);
    }

    using var p = Process.Start(psi)!;
    var stdout = p.StandardOutput.ReadToEndAsync();
    var stderr = p.StandardError.ReadToEndAsync();
    await p.WaitForExitAsync();
    await Task.WhenAll(stdout, stderr);
    if (!(okExit ?? [0]).Contains(p.ExitCode))
    {
        throw new InvalidOperationException($"{program} exited with {p.ExitCode}: {await stderr}");
    }
}

internal sealed record BenchMedia(string Document, string Photo, string Qr, string Speech, string Video)
{
    private const string Font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    private const string Bold = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

    public static async Task<BenchMedia> CreateAsync(string dir)
    {
        var text = string.Join('\n', Enumerable.Range(0, 3).SelectMany(_ => new[]
        {
            "Invoice 4821 from Northwind Traders, 12 Harbour Road",
            "Total due: 1,284.50 EUR by 2024-07-15; late fee 2%",
            "Please transfer the amount to the account shown below",
            "and quote the invoice number with your payment.",
        }));
        var document = Path.Combine(dir, "document.png");
        using (var image = new MagickImage("label:" + text, new MagickReadSettings { Font = Font, FontPointsize = 36, BackgroundColor = MagickColors.White, FillColor = MagickColors.Black }))
        {
            image.BorderColor = MagickColors.White;
            image.Border(60);
            image.Write(document, MagickFormat.Png);
        }

        var photo = Path.Combine(dir, "photo.jpg");
        using (var image = new MagickImage(document))
        {
            image.BackgroundColor = new MagickColor("#8a7560");
            image.Rotate(7);
            image.GaussianBlur(0, 0.8);
            image.AddNoise(NoiseType.Gaussian, 0.3);
            image.Quality = 60;
            image.Write(photo, MagickFormat.Jpeg);
        }

        var qr = Path.Combine(dir, "qr.jpg");
        using (var data = new QRCodeGenerator().CreateQrCode("https://example.com/order/4821?x=1", QRCodeGenerator.ECCLevel.M))
        using (var image = new MagickImage(new PngByteQRCode(data).GetGraphic(8)))
        {
            image.BorderColor = MagickColors.White;
            image.Border(40);
            image.BackgroundColor = MagickColors.White;
            image.Rotate(17);
            image.GaussianBlur(0, 1.0);
            image.Quality = 55;
            image.Write(qr, MagickFormat.Jpeg);
        }

        var raw = Path.Combine(dir, "speech-raw.wav");
        var speech = Path.Combine(dir, "speech.wav");
        await Run("flite", ["-voice", "rms", "-t", "remind me to call the dentist tomorrow morning at nine thirty. the quarterly report shows revenue increased by twelve percent compared to last year. please pick up milk eggs bread and coffee on the way home", "-o", raw]);
        await Run("ffmpeg", ["-v", "error", "-y", "-i", raw, "-ac", "1", "-ar", "22050", speech]);

        var video = Path.Combine(dir, "video.mp4");
        var colors = new[] { "navy", "darkgreen", "black", "maroon", "darkslategray", "indigo" };
        var filter = string.Join(';', colors.Select((c, i) =>
            $"color=c={c}:s=1280x720:d=5:r=30,drawtext=fontfile={Bold}:text='SCENE {i + 1}':fontsize=96:fontcolor=white:x=(w-tw)/2:y=(h-th)/2[v{i}]"))
            + ";" + string.Concat(colors.Select((_, i) => $"[v{i}]")) + $"concat=n={colors.Length}:v=1:a=0,format=yuv420p[v]";
        await Run("ffmpeg", ["-v", "error", "-y", "-filter_complex", filter, "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", video]);
        return new BenchMedia(document, photo, qr, speech, video);
    }

    private static async Task Run(string program, string[] arguments)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed: {await p.StandardError.ReadToEndAsync()}");
        }
    }
}
