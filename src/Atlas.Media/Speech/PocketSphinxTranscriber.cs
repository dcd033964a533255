using System.Globalization;
using Atlas.Media.Processes;

namespace Atlas.Media.Speech;

/// <summary>
/// English speech recognition with Debian's <c>pocketsphinx_continuous</c> and the en-us model: its voice activity
/// detector splits the audio at pauses and <c>-time yes</c> gives word timings. Accurate on clear speech, weak on
/// noisy or accented audio (see docs/atlas-media.md).
/// </summary>
internal sealed class PocketSphinxTranscriber : ITranscriber
{
    public const string EngineName = "pocketsphinx";
    private const string Program = "pocketsphinx_continuous";
    private const string ModelDirectory = "/usr/share/pocketsphinx/model/en-us";
    private readonly ToolRunner _runner;

    public PocketSphinxTranscriber(ToolRunner runner)
    {
        _runner = runner;
    }

    public string Name => EngineName;

    public ValueTask<string> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        ToolLocator.Find(Program);
        var lm = Path.Combine(ModelDirectory, "en-us.lm.bin");
        var dict = Path.Combine(ModelDirectory, "cmudict-en-us.dict");
        if (!File.Exists(lm) || !File.Exists(dict))
        {
            throw new MediaException(MediaErrorCode.ModelMissing,
                $"The English speech model is not installed in {ModelDirectory}. {ToolLocator.InstallHint(Program)}");
        }

        return ValueTask.FromResult(string.Create(CultureInfo.InvariantCulture, $"pocketsphinx 5prealpha en-us lm:{new FileInfo(lm).Length} dict:{new FileInfo(dict).Length}; parse-1"));
    }

    public async Task<TranscriptResult> TranscribeAsync(string wavPath, double durationSeconds, TranscribeOptions options, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!string.Equals(options.Language, "en-us", StringComparison.OrdinalIgnoreCase) && !string.Equals(options.Language, "en", StringComparison.OrdinalIgnoreCase))
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, $"Speech language '{options.Language}' is not available: only English (en-us) has a recogniser installed.");
        }

        await GetVersionAsync(cancellationToken).ConfigureAwait(false);
        var words = new List<TranscriptWord>();
        var segments = new List<TranscriptSegment>();
        var current = new List<TranscriptWord>();
        var duration = Math.Max(0.001, durationSeconds);

        void OnLine(string line)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 4 ||
                !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var start) ||
                !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var end) ||
                !double.TryParse(parts[3], NumberStyles.Float, CultureInfo.InvariantCulture, out var prob))
            {
                return; // the hypothesis line of an utterance; the word lines that follow carry the same words
            }

            var token = parts[0];
            if (token == "</s>")
            {
                if (current.Count > 0)
                {
                    segments.Add(new TranscriptSegment { Start = current[0].Start, End = current[^1].End, Text = string.Join(' ', current.Select(w => w.Text)) });
                    current.Clear();
                }

                progress?.Report(Math.Clamp(end / duration, 0, 1));
                return;
            }

            if (token is "<s>" or "<sil>" || token.StartsWith('[') || token.StartsWith("++", StringComparison.Ordinal))
            {
                return;
            }

            var paren = token.IndexOf('(', StringComparison.Ordinal);
            var word = new TranscriptWord
            {
                Text = paren > 0 ? token[..paren] : token,
                Start = Math.Round(start, 2),
                End = Math.Round(end, 2),
                Confidence = Math.Round(Math.Clamp(prob, 0, 1), 3),
            };
            words.Add(word);
            current.Add(word);
        }

        var invocation = new ToolInvocation(Program, [
            "-infile", wavPath, "-time", "yes", "-logfn", "/dev/null",
            "-hmm", Path.Combine(ModelDirectory, "en-us"),
            "-lm", Path.Combine(ModelDirectory, "en-us.lm.bin"),
            "-dict", Path.Combine(ModelDirectory, "cmudict-en-us.dict"),
        ])
        { OnOutputLine = OnLine };
        await _runner.RunAsync(invocation, cancellationToken).ConfigureAwait(false);
        if (current.Count > 0)
        {
            segments.Add(new TranscriptSegment { Start = current[0].Start, End = current[^1].End, Text = string.Join(' ', current.Select(w => w.Text)) });
        }

        return new TranscriptResult
        {
            Engine = EngineName,
            Language = "en-us",
            Text = string.Join('\n', segments.Select(s => s.Text)),
            DurationSeconds = Math.Round(durationSeconds, 3),
            MeanConfidence = words.Count == 0 ? 0 : Math.Round(words.Average(w => w.Confidence), 3),
            Segments = segments,
            Words = words,
        };
    }
}
