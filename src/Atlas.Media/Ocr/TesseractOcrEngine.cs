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
    private const string PreprocessingVersion = "deskew-1; order-xy-2; junk-lines";

    // Marks without a letter or digit at a line's ends are dropped from the text below this word confidence.
    private const double EdgeJunkConfidence = 0.5;
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
        return ParseTsv(outcome.StandardOutput, inverse, gray.Width, gray.Height, options.MinLineConfidence) with
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

    internal static OcrResult ParseTsv(string tsv, double[]? inverse, int width, int height, double minLineConfidence = OcrOptions.DefaultMinLineConfidence)
    {
        // Words grouped by tesseract's (block, paragraph, line), with their boxes in the recognised (corrected) image for
        // ordering and in the caller's image for the answer.
        var parsed = new List<TsvLine>();
        TsvLine? current = null;
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
            if (current is null || current.Key != key)
            {
                current = new TsvLine(key);
                parsed.Add(current);
            }

            int x = Int(f[6]), y = Int(f[7]), w = Int(f[8]), h = Int(f[9]);
            var box = inverse is null ? PixelBox.Of(x, y, w, h) : DocumentPreprocessor.MapBack(inverse, x, y, w, h, width, height);
            current.Words.Add(new OcrWord { Text = word, Confidence = Math.Round(conf / 100.0, 3), Box = box });
            current.Include(x, y, w, h);
        }

        var words = new List<OcrWord>();
        var lines = new List<OcrLine>();
        var kept = new List<OcrWord>();
        var text = new StringBuilder();
        foreach (var block in ReadingOrder(parsed))
        {
            var blockStarted = false;
            foreach (var line in block)
            {
                words.AddRange(line.Words);
                var confidence = line.Words.Average(w => w.Confidence);
                var textWords = TrimEdgeJunk(line.Words);
                var omitted = confidence < minLineConfidence || !textWords.Any(w => w.Text.Any(char.IsLetterOrDigit));
                var left = line.Words.Min(w => w.Box.X);
                var top = line.Words.Min(w => w.Box.Y);
                var right = line.Words.Max(w => w.Box.X + w.Box.Width);
                var bottom = line.Words.Max(w => w.Box.Y + w.Box.Height);
                lines.Add(new OcrLine
                {
                    Text = string.Join(' ', line.Words.Select(w => w.Text)),
                    Confidence = Math.Round(confidence, 3),
                    Box = PixelBox.Of(left, top, right - left, bottom - top),
                    Omitted = omitted ? true : null,
                });
                if (omitted)
                {
                    continue;
                }

                if (text.Length > 0)
                {
                    text.Append(blockStarted ? "\n" : "\n\n");
                }

                text.AppendJoin(' ', textWords.Select(w => w.Text));
                kept.AddRange(textWords);
                blockStarted = true;
            }
        }

        return new OcrResult
        {
            Engine = EngineName,
            Text = text.ToString(),
            MeanConfidence = kept.Count == 0 ? 0 : Math.Round(kept.Average(w => w.Confidence), 3),
            Lines = lines,
            Words = words,
        };
    }

    /// <summary>
    /// Drops marks at the ends of a line that the edge of a photographed page or the table around it produced:
    /// tokens without a letter or digit that tesseract itself doubts (<c>|</c>, <c>§</c>, <c>]</c>).
    /// </summary>
    private static List<OcrWord> TrimEdgeJunk(List<OcrWord> words)
    {
        static bool Junk(OcrWord w) => w.Confidence < EdgeJunkConfidence && !w.Text.Any(char.IsLetterOrDigit);
        var start = 0;
        var end = words.Count;
        while (start < end && Junk(words[start]))
        {
            start++;
        }

        while (end > start && Junk(words[end - 1]))
        {
            end--;
        }

        return words.GetRange(start, end - start);
    }

    /// <summary>
    /// Blocks in reading order by recursive XY cuts on their boxes: split into columns at vertical gaps (left to
    /// right), columns into bands at horizontal gaps (top to bottom), and so on. Tesseract sometimes makes a photo's
    /// first line its own block and lists it last; a cut puts it back on top, while true columns stay whole. Where no
    /// gap separates blocks (a tilted photo), lines that stack in one column are read top to bottom, else tesseract's
    /// order of blocks is kept (<see cref="TesseractOrder"/>); within a block, tesseract's order of lines.
    /// </summary>
    internal static IEnumerable<List<TsvLine>> ReadingOrder(List<TsvLine> lines)
    {
        var blocks = lines.GroupBy(l => l.Key.Block).Select((g, i) => new TsvBlock(g.ToList(), i)).ToList();
        var ordered = new List<TsvBlock>(blocks.Count);
        Cut(blocks, horizontal: false, ordered, depth: 0); // columns first, so aligned paragraph gaps do not interleave them
        return ordered.Select(b => b.Lines);
    }

    private static void Cut(List<TsvBlock> blocks, bool horizontal, List<TsvBlock> output, int depth)
    {
        if (blocks.Count <= 1 || depth > 16)
        {
            output.AddRange(TesseractOrder(blocks)); // no clear gap
            return;
        }

        var groups = Split(blocks, horizontal);
        if (groups.Count == 1)
        {
            groups = Split(blocks, !horizontal);
            if (groups.Count == 1)
            {
                output.AddRange(TesseractOrder(blocks)); // no clear gap
                return;
            }

            horizontal = !horizontal;
        }

        if (horizontal)
        {
            groups = MergeColumnBands(groups);
        }

        foreach (var group in groups)
        {
            Cut(group, !horizontal, output, depth + 1);
        }
    }

    /// <summary>
    /// Blocks no gap separates (a tilted photo). When their lines, taken together, stack one below another in one
    /// column, they are read top to bottom as one block: tesseract sometimes puts a photo's first and last lines in a
    /// block of their own around the body (and lists it after the body) or makes the first line a block listed last,
    /// with boxes that overlap the body's by the tilt left after deskewing. Otherwise (lines side by side: columns)
    /// tesseract's order of blocks is kept.
    /// </summary>
    private static List<TsvBlock> TesseractOrder(List<TsvBlock> blocks)
    {
        var ordered = blocks.OrderBy(b => b.Index).ToList();
        if (ordered.Count < 2)
        {
            return ordered;
        }

        var lines = blocks.SelectMany(b => b.Lines).OrderBy(l => l.Top).ToList();

        // Specks from the page edge or the table (a line narrower than twice its height) neither stack nor stand side by side.
        var text = lines.Where(l => l.Right - l.Left >= 2 * (l.Bottom - l.Top)).ToList();
        for (var i = 1; i < text.Count; i++)
        {
            var (above, below) = (text[i - 1], text[i]);
            var slack = Math.Min(above.Bottom - above.Top, below.Bottom - below.Top) / 3;
            var stacked = below.Top >= above.Bottom - slack && above.Left < below.Right && below.Left < above.Right;
            if (!stacked)
            {
                return ordered;
            }
        }

        return [new TsvBlock(lines, ordered[0].Index)];
    }

    /// <summary>
    /// Joins neighbouring bands that hold the same columns (paragraph gaps that happen to line up across columns),
    /// so each column is read to its end before the next.
    /// </summary>
    private static List<List<TsvBlock>> MergeColumnBands(List<List<TsvBlock>> bands)
    {
        var merged = new List<List<TsvBlock>> { bands[0] };
        var previousColumns = Columns(bands[0]);
        foreach (var band in bands.Skip(1))
        {
            var columns = Columns(band);
            if (previousColumns.Count >= 2 && columns.Count == previousColumns.Count
                && columns.Zip(previousColumns).All(p => p.First.Left < p.Second.Right && p.Second.Left < p.First.Right))
            {
                merged[^1].AddRange(band);
                previousColumns = [.. previousColumns.Zip(columns, (a, b) => (Math.Min(a.Left, b.Left), Math.Max(a.Right, b.Right)))];
                continue;
            }

            merged.Add(band);
            previousColumns = columns;
        }

        return merged;

        static List<(int Left, int Right)> Columns(List<TsvBlock> band) => band.Count < 2
            ? [(band.Min(b => b.Left), band.Max(b => b.Right))]
            : [.. Split(band, horizontal: false).Select(c => (c.Min(b => b.Left), c.Max(b => b.Right)))];
    }

    /// <summary>Groups blocks separated by a gap along one axis (rows when <paramref name="horizontal"/>), in order.</summary>
    private static List<List<TsvBlock>> Split(List<TsvBlock> blocks, bool horizontal)
    {
        var sorted = blocks.OrderBy(b => horizontal ? b.Top : b.Left).ToList();
        var groups = new List<List<TsvBlock>> { new() { sorted[0] } };
        var reach = horizontal ? sorted[0].Bottom : sorted[0].Right;
        foreach (var b in sorted.Skip(1))
        {
            var start = horizontal ? b.Top : b.Left;
            var end = horizontal ? b.Bottom : b.Right;

            // Boxes of neighbouring lines overlap by a few pixels after deskewing; that is not one region.
            var slack = horizontal ? Math.Min(groups[^1].Min(x => x.LineHeight), b.LineHeight) / 3 : 0;
            if (start >= reach - slack)
            {
                groups.Add([]);
            }

            groups[^1].Add(b);
            reach = Math.Max(reach, end);
        }

        return groups;
    }

    /// <summary>One line of tesseract's TSV, with its box in the recognised image.</summary>
    internal sealed class TsvLine((int Block, int Par, int Line) key)
    {
        public (int Block, int Par, int Line) Key { get; } = key;

        public List<OcrWord> Words { get; } = [];

        public int Left { get; private set; } = int.MaxValue;

        public int Top { get; private set; } = int.MaxValue;

        public int Right { get; private set; } = int.MinValue;

        public int Bottom { get; private set; } = int.MinValue;

        public void Include(int x, int y, int w, int h)
        {
            Left = Math.Min(Left, x);
            Top = Math.Min(Top, y);
            Right = Math.Max(Right, x + w);
            Bottom = Math.Max(Bottom, y + h);
        }
    }

    private sealed class TsvBlock(List<TsvLine> lines, int index)
    {
        public List<TsvLine> Lines { get; } = lines;

        /// <summary>Tesseract's order, kept wherever position does not clearly decide.</summary>
        public int Index { get; } = index;

        public int Left { get; } = lines.Min(l => l.Left);

        public int Top { get; } = lines.Min(l => l.Top);

        public int Right { get; } = lines.Max(l => l.Right);

        public int Bottom { get; } = lines.Max(l => l.Bottom);

        public int LineHeight { get; } = (int)lines.Select(l => l.Bottom - l.Top).Order().ElementAt(lines.Count / 2);
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
