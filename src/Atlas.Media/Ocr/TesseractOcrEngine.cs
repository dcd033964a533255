using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Atlas.Media.Processes;
using OpenCvSharp;

namespace Atlas.Media.Ocr;

/// <summary>
/// Document and screenshot OCR with the tesseract program (one process per image, <c>OMP_THREAD_LIMIT=1</c>), TSV
/// output for word boxes and confidences, and <see cref="DocumentPreprocessor"/> for photos.
/// </summary>
internal sealed partial class TesseractOcrEngine : IOcrEngine
{
    public const string EngineName = "tesseract";
    private const string PreprocessingVersion = "deskew-1";
    private readonly ToolRunner _runner;
    private readonly Lock _initLock = new();
    private Task<(string Version, HashSet<string> Languages)>? _init;

    public TesseractOcrEngine(ToolRunner runner)
    {
        _runner = runner;
    }

    public string Name => EngineName;

    public async ValueTask<string> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        return (await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false)).Version;
    }

    public async Task<OcrResult> RecognizeAsync(string imagePath, OcrOptions options, CancellationToken cancellationToken = default)
    {
        await ValidateLanguageAsync(options.Language, cancellationToken).ConfigureAwait(false);
        using var gray = Cv2.ImRead(imagePath, ImreadModes.Grayscale);
        if (gray.Empty())
        {
            throw new MediaException(MediaErrorCode.CorruptInput, "The image could not be decoded for OCR; the file is corrupt or truncated.");
        }

        var plan = options.Preprocess ? DocumentPreprocessor.Analyze(gray) : new DocumentPreprocessor.Plan(0, 1);
        var args = new List<string>();
        ReadOnlyMemory<byte>? stdin = null;
        double[]? inverse = null;
        if (plan.IsIdentity)
        {
            args.Add(imagePath);
        }
        else
        {
            var (corrected, inv) = DocumentPreprocessor.Apply(gray, plan);
            using (corrected)
            {
                // PGM is uncompressed: encoding and decoding it costs next to nothing compared with PNG.
                Cv2.ImEncode(".pgm", corrected, out var bytes);
                stdin = bytes;
            }

            inverse = inv;
            args.Add("stdin");
        }

        args.AddRange(["stdout", "-l", options.Language, "--psm", PageSegMode(options.Layout)]);
        if (!plan.IsIdentity && Math.Abs(plan.AngleDegrees) > 0)
        {
            // Sauvola adaptive thresholding copes with the uneven light of photographed pages.
            args.AddRange(["-c", "thresholding_method=2"]);
        }

        args.Add("tsv");
        var outcome = await _runner.RunAsync(new ToolInvocation(EngineName, args) { StandardInput = stdin }, cancellationToken).ConfigureAwait(false);
        return ParseTsv(outcome.StandardOutput, inverse, gray.Width, gray.Height) with
        {
            SkewDegrees = plan.IsIdentity ? 0 : -plan.AngleDegrees,
            Scale = plan.IsIdentity ? 1 : plan.Scale,
        };
    }

    private static string PageSegMode(OcrLayout layout) => layout switch
    {
        OcrLayout.Block => "6",
        OcrLayout.Sparse => "11",
        OcrLayout.Column => "4",
        OcrLayout.Line => "7",
        _ => "3",
    };

    internal static OcrResult ParseTsv(string tsv, double[]? inverse, int width, int height)
    {
        var words = new List<OcrWord>();
        var lines = new List<OcrLine>();
        var text = new StringBuilder();
        (int Block, int Par, int Line) currentLine = (-1, -1, -1);
        var lineWords = new List<OcrWord>();
        var lastBlock = -1;

        void FlushLine()
        {
            if (lineWords.Count == 0)
            {
                return;
            }

            var lineText = string.Join(' ', lineWords.Select(w => w.Text));
            var left = lineWords.Min(w => w.Box.X);
            var top = lineWords.Min(w => w.Box.Y);
            var right = lineWords.Max(w => w.Box.X + w.Box.Width);
            var bottom = lineWords.Max(w => w.Box.Y + w.Box.Height);
            lines.Add(new OcrLine { Text = lineText, Confidence = lineWords.Average(w => w.Confidence), Box = PixelBox.Of(left, top, right - left, bottom - top) });
            if (text.Length > 0)
            {
                text.Append(currentLine.Block != lastBlock ? "\n\n" : "\n");
            }

            text.Append(lineText);
            lastBlock = currentLine.Block;
            lineWords.Clear();
        }

        foreach (var raw in tsv.Split('\n'))
        {
            var f = raw.Split('\t');
            if (f.Length < 12 || f[0] != "5")
            {
                continue;
            }

            var word = f[11].Trim();
            if (word.Length == 0 || !double.TryParse(f[10], NumberStyles.Float, CultureInfo.InvariantCulture, out var conf) || conf < 0)
            {
                continue;
            }

            var key = (Int(f[2]), Int(f[3]), Int(f[4]));
            if (key != currentLine)
            {
                FlushLine();
                currentLine = key;
            }

            int x = Int(f[6]), y = Int(f[7]), w = Int(f[8]), h = Int(f[9]);
            var box = inverse is null ? PixelBox.Of(x, y, w, h) : DocumentPreprocessor.MapBack(inverse, x, y, w, h, width, height);
            var ocrWord = new OcrWord { Text = word, Confidence = Math.Round(conf / 100.0, 3), Box = box };
            words.Add(ocrWord);
            lineWords.Add(ocrWord);
        }

        FlushLine();
        return new OcrResult
        {
            Engine = EngineName,
            Text = text.ToString(),
            MeanConfidence = words.Count == 0 ? 0 : Math.Round(words.Average(w => w.Confidence), 3),
            Lines = lines,
            Words = words,
        };
    }

    private static int Int(string s) => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private async Task ValidateLanguageAsync(string language, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(language) || language.Length > 64 || !LanguagePattern().IsMatch(language))
        {
            throw new MediaException(MediaErrorCode.InvalidRequest,
                $"OCR language '{language}' is not valid: use tesseract language codes joined by '+', for example 'eng' or 'eng+deu'.");
        }

        var languages = (await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false)).Languages;
        foreach (var lang in language.Split('+'))
        {
            if (!languages.Contains(lang))
            {
                throw new MediaException(MediaErrorCode.ToolMissing,
                    $"Tesseract has no language data for '{lang}' (installed: {string.Join(", ", languages.Where(l => l != "osd").Order(StringComparer.Ordinal))}). " +
                    $"Install it with: sudo apt-get install -y tesseract-ocr-{lang.Replace('_', '-').ToLowerInvariant()}");
            }
        }
    }

    private async Task<(string Version, HashSet<string> Languages)> EnsureInitializedAsync(CancellationToken cancellationToken)
    {
        Task<(string, HashSet<string>)> init;
        lock (_initLock)
        {
            init = _init ??= InitializeAsync();
        }

        try
        {
            return await init.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MediaException)
        {
            lock (_initLock)
            {
                // A missing program may be installed later: do not cache the failure.
                if (ReferenceEquals(_init, init))
                {
                    _init = null;
                }
            }

            throw;
        }
    }

    private async Task<(string Version, HashSet<string> Languages)> InitializeAsync()
    {
        var version = await _runner.RunAsync(new ToolInvocation(EngineName, ["--version"]), CancellationToken.None).ConfigureAwait(false);
        var first = (version.StandardOutput + version.StandardErrorTail).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "tesseract";
        var list = await _runner.RunAsync(new ToolInvocation(EngineName, ["--list-langs"]), CancellationToken.None).ConfigureAwait(false);
        var langs = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("List of", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        return ($"{first}; {string.Join('+', langs.Order(StringComparer.Ordinal))}; {PreprocessingVersion}", langs);
    }

    [GeneratedRegex("^[A-Za-z_]{2,20}(\\+[A-Za-z_]{2,20}){0,4}$")]
    private static partial Regex LanguagePattern();
}
