using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atlas.Media.Analysis;
using Atlas.Media.Context;
using Atlas.Media.Description;
using Atlas.Media.Input;
using Atlas.Media.Ocr;
using Atlas.Media.Processes;
using Atlas.Media.Speech;
using Atlas.Media.Video;
using OpenCvSharp;

namespace Atlas.Media.Jobs;

/// <summary>Runs one task on one staged input: picks engines, probes recordings, and assembles the typed result.</summary>
internal sealed class MediaProcessor
{
    /// <summary>Why a context card asked to include a description has none.</summary>
    internal const string NoDescriptionWarning =
        "The description was left out: no vision model is configured (set the LLM endpoint, Atlas:Llm, and optionally Atlas:Media:DescribeModel).";

    private const string KeyVersion = "atlas-media-1";
    private readonly AtlasMediaOptions _options;
    private readonly ToolRunner _runner;
    private readonly ImageLoader _images;
    private readonly MediaProbe _probe;
    private readonly FrameExtractor _frames;
    private readonly AudioExtractor _audio;
    private readonly MediaEngines _engines;
    private readonly ImageDescriber _describer;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Task<string>> _toolVersions = new(StringComparer.Ordinal);

    public MediaProcessor(
        AtlasMediaOptions options, ToolRunner runner, ImageLoader images, MediaProbe probe, FrameExtractor frames,
        AudioExtractor audio, MediaEngines engines, ImageDescriber describer, TimeProvider time)
    {
        _options = options;
        _runner = runner;
        _images = images;
        _probe = probe;
        _frames = frames;
        _audio = audio;
        _engines = engines;
        _describer = describer;
        _time = time;
    }

    /// <summary>Rejects options out of range and tasks that cannot apply to the sniffed format, before any work is queued.</summary>
    public static void Validate(MediaRequest request, SniffedFormat? format)
    {
        void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new MediaException(MediaErrorCode.InvalidRequest, message);
            }
        }

        Require(Enum.IsDefined(request.Task), $"Unknown task '{request.Task}'.");
        Require(request.FilePath is null != (request.Content is null), "Give exactly one of FilePath or Content.");
        var f = request.Frames;
        const string Layouts = "ocr.layout must be one of auto, block, sparse, column, line.";
        Require(Enum.IsDefined(request.Ocr.Layout), Layouts);
        Require(request.Ocr.MinLineConfidence is >= 0 and <= 1, "ocr.minLineConfidence must be between 0 and 1.");
        Require(f.OcrOptions is null || Enum.IsDefined(f.OcrOptions.Layout), "frames." + Layouts);
        Require(Enum.IsDefined(f.Mode), "frames.mode must be one of scenes, interval, keyframes.");
        Require(f.IntervalSeconds is >= 0.1 and <= 3600, "frames.intervalSeconds must be between 0.1 and 3600.");
        Require(f.SceneThreshold is >= 0.05 and <= 0.95, "frames.sceneThreshold must be between 0.05 and 0.95.");
        Require(f.MaxFrames is >= 1 and <= 500, "frames.maxFrames must be between 1 and 500.");
        Require(f.MaxWidth is >= 64 and <= 3840, "frames.maxWidth must be between 64 and 3840.");
        Require(request.Describe.MaxFrames is >= 1 and <= 16, "describe.maxFrames must be between 1 and 16.");
        Require(request.Describe.Prompt is null || request.Describe.Prompt.Length <= 2000, "describe.prompt must be at most 2000 characters.");
        Require(request.Context.MaxLength is >= 500 and <= 50_000, "context.maxLength must be between 500 and 50000.");
        if (format is null)
        {
            return;
        }

        Require(request.Task != MediaTask.Ocr || format.IsImage,
            $"OCR needs an image, but the file is {format.Name}. For video, use the frames task with OCR enabled.");
        Require(request.Task != MediaTask.Frames || format.Kind == MediaKind.Video,
            $"Frames need a video, but the file is {format.Name}.");
        Require(request.Task != MediaTask.Transcribe || !format.IsImage,
            $"Transcription needs audio or video, but the file is an image ({format.Name}).");
    }

    /// <summary>The cache key: SHA-256 over content hash, task, the task's options and the engine versions.</summary>
    public async Task<string> CacheKeyAsync(MediaRequest request, StagedInput input, CancellationToken cancellationToken)
    {
        var options = request.Task switch
        {
            MediaTask.Ocr => JsonSerializer.Serialize(request.Ocr, MediaJsonContext.Default.OcrOptions),
            MediaTask.Frames => JsonSerializer.Serialize(request.Frames, MediaJsonContext.Default.FramesOptions),
            MediaTask.Transcribe => JsonSerializer.Serialize(request.Transcribe, MediaJsonContext.Default.TranscribeOptions),
            MediaTask.Describe => JsonSerializer.Serialize(request.Describe, MediaJsonContext.Default.DescribeOptions),
            MediaTask.Context => JsonSerializer.Serialize(request.Context, MediaJsonContext.Default.ContextOptions) + JsonSerializer.Serialize(request.Describe, MediaJsonContext.Default.DescribeOptions),
            _ => string.Empty,
        };
        var versions = await EngineVersionsAsync(request, input.Format, cancellationToken).ConfigureAwait(false);
        var material = $"{KeyVersion}\n{request.Task}\n{input.Sha256}\n{options}\n{versions}\n{_options.MaxPixels}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(material)));
    }

    private async Task<string> EngineVersionsAsync(MediaRequest request, SniffedFormat format, CancellationToken cancellationToken)
    {
        var parts = new List<string>();
        var image = format.IsImage;
        var task = request.Task;
        if (task == MediaTask.Ocr || (task == MediaTask.Context && image))
        {
            foreach (var engine in OcrCandidates(request.Ocr.Engine, forFrames: false))
            {
                parts.Add(await engine.GetVersionAsync(cancellationToken).ConfigureAwait(false));
            }
        }

        if (image && task is MediaTask.Analyze or MediaTask.Context)
        {
            parts.Add("opencv " + Cv2.GetVersionString());
            parts.Add(await _engines.Codes.GetVersionAsync(cancellationToken).ConfigureAwait(false));
            parts.Add(_engines.Faces.IsAvailable ? _engines.Faces.Version : "no-faces");
        }

        if (!image)
        {
            parts.Add(await ToolVersionAsync("ffmpeg", cancellationToken).ConfigureAwait(false));
        }

        if ((task == MediaTask.Frames && request.Frames.Ocr) || (task == MediaTask.Context && format.Kind == MediaKind.Video))
        {
            foreach (var engine in OcrCandidates(FrameOcrOptions(request.Frames).Engine, forFrames: true))
            {
                parts.Add(await engine.GetVersionAsync(cancellationToken).ConfigureAwait(false));
            }
        }

        if (task == MediaTask.Transcribe || (task == MediaTask.Context && !image))
        {
            parts.Add(await _engines.Transcriber.GetVersionAsync(cancellationToken).ConfigureAwait(false));
        }

        if (task == MediaTask.Describe || (task == MediaTask.Context && request.Context.IncludeDescription))
        {
            parts.Add("model " + _describer.ModelKey);
        }

        return string.Join(" | ", parts);
    }

    private Task<string> ToolVersionAsync(string tool, CancellationToken cancellationToken) =>
        _toolVersions.GetOrAdd(tool, async t =>
        {
            var outcome = await _runner.RunAsync(new ToolInvocation(t, ["-version"]), CancellationToken.None).ConfigureAwait(false);
            return outcome.StandardOutput.Split('\n')[0].Trim();
        }).WaitAsync(cancellationToken);

    public async Task<MediaResult> RunAsync(StagedInput input, MediaRequest request, MediaJob job, string workDirectory, string artifactsDirectory, CancellationToken cancellationToken)
    {
        var result = new MediaResult
        {
            Task = request.Task,
            ContentHash = input.Sha256,
            ContentType = input.Format.MimeType,
            Format = input.Format.Name,
            Kind = input.Format.Kind,
            SizeBytes = input.Length,
            CreatedAt = _time.GetUtcNow(),
        };

        if (input.Format.IsImage)
        {
            return await RunImageAsync(input, request, job, result, workDirectory, cancellationToken).ConfigureAwait(false);
        }

        job.Report("probing", 0.02);
        var recording = await _probe.ProbeAsync(input.Path, input.Format, cancellationToken).ConfigureAwait(false);
        var kind = recording.Streams.Any(s => s.Type == "video") ? MediaKind.Video : MediaKind.Audio;
        result = result with { Kind = kind, Recording = recording, ContentType = kind == MediaKind.Audio && input.Format.Kind == MediaKind.Video ? "audio/" + input.Format.MimeType.Split('/')[1] : input.Format.MimeType };
        switch (request.Task)
        {
            case MediaTask.Analyze:
                return result;
            case MediaTask.Frames:
                return result with { Frames = await FramesAsync(input, recording, request.Frames, artifactsDirectory, job, 0.05, 0.95, cancellationToken).ConfigureAwait(false) };
            case MediaTask.Transcribe:
                return result with { Transcript = await TranscribeAsync(input, recording, request.Transcribe, workDirectory, job, 0.05, 1.0, cancellationToken).ConfigureAwait(false) };
            case MediaTask.Describe:
                return result with { Description = await DescribeVideoAsync(input, recording, request.Describe, workDirectory, job, null, null, cancellationToken).ConfigureAwait(false) };
            default:
                return await VideoContextAsync(input, recording, request, result, workDirectory, artifactsDirectory, job, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<MediaResult> RunImageAsync(StagedInput input, MediaRequest request, MediaJob job, MediaResult result, string workDirectory, CancellationToken cancellationToken)
    {
        if (request.Task == MediaTask.Frames)
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, "Frames need a video, but the file is an image.");
        }

        job.Report("decoding", 0.05);
        _images.CheckSize(input.Path, input.Format);
        switch (request.Task)
        {
            case MediaTask.Ocr:
                {
                    var upright = _images.EnsureUprightFile(input.Path, input.Format, workDirectory);
                    job.Report("ocr", 0.1);
                    return result with { Ocr = await OcrAsync(upright, request.Ocr, forFrames: false, cancellationToken).ConfigureAwait(false) };
                }

            case MediaTask.Analyze:
                return result with { Image = await AnalyzeImageAsync(input, workDirectory, job, cancellationToken).ConfigureAwait(false) };
            case MediaTask.Describe:
                return result with { Description = await DescribeImageAsync(input, request.Describe, null, job, cancellationToken).ConfigureAwait(false) };
            case MediaTask.Context:
                {
                    var analysis = await AnalyzeImageAsync(input, workDirectory, job, cancellationToken).ConfigureAwait(false);
                    job.Report("ocr", 0.5);
                    var upright = _images.EnsureUprightFile(input.Path, input.Format, workDirectory);
                    var ocr = await OcrAsync(upright, request.Ocr, forFrames: false, cancellationToken).ConfigureAwait(false);
                    result = result with { Image = analysis, Ocr = ocr };
                    if (request.Context.IncludeDescription && _describer.IsAvailable)
                    {
                        var facts = ContextCardBuilder.Build(result, request.FileName, request.Context.MaxLength).Text;
                        result = result with { Description = await DescribeImageAsync(input, request.Describe, facts, job, cancellationToken).ConfigureAwait(false) };
                    }
                    else if (request.Context.IncludeDescription)
                    {
                        result = result with { Warnings = [NoDescriptionWarning] };
                    }

                    return result with { Context = ContextCardBuilder.Build(result, request.FileName, request.Context.MaxLength) };
                }

            default:
                throw new MediaException(MediaErrorCode.InvalidRequest, $"Transcription needs audio or video, but the file is an image ({input.Format.Name}).");
        }
    }

    private async Task<ImageAnalysis> AnalyzeImageAsync(StagedInput input, string workDirectory, MediaJob job, CancellationToken cancellationToken)
    {
        using var bgr = _images.LoadBgr(input.Path, input.Format);
        using var gray = bgr.CvtColor(ColorConversionCodes.BGR2GRAY);
        job.Report("analyzing", 0.15);
        var (brightness, contrast) = ImageStatistics.Luminance(gray);
        var sharpness = ImageStatistics.Sharpness(gray);
        var upright = _images.EnsureUprightFile(input.Path, input.Format, workDirectory, bgr);
        var codesTask = _engines.Codes.DecodeAsync(upright, cancellationToken);
        IReadOnlyList<DetectedFace>? faces = null;
        if (_engines.Faces.IsAvailable)
        {
            job.Report("faces", 0.25);
            faces = await _engines.Faces.DetectAsync(upright, cancellationToken).ConfigureAwait(false);
        }

        var analysis = new ImageAnalysis
        {
            Format = input.Format.Name,
            Width = bgr.Width,
            Height = bgr.Height,
            Exif = ExifReader.Read(input.Path),
            Brightness = brightness,
            Contrast = contrast,
            Sharpness = sharpness,
            IsDark = brightness < 50,
            IsOverexposed = brightness > 215 && contrast < 30,
            IsBlurry = sharpness < ImageStatistics.BlurryBelow,
            Colors = ImageStatistics.DominantColors(bgr),
            PerceptualHash = ImageStatistics.PerceptualHash(gray),
            Faces = faces,
            Codes = await codesTask.ConfigureAwait(false),
        };
        job.Report("analyzed", 0.4);
        return analysis;
    }

    private static OcrOptions FrameOcrOptions(FramesOptions frames) => frames.OcrOptions ?? new OcrOptions { Layout = OcrLayout.Sparse, Preprocess = false };

    /// <summary>Engines to try, in order, for an engine name; <c>auto</c> is tesseract then PP-OCR for documents, PP-OCR then tesseract for frames.</summary>
    private List<IOcrEngine> OcrCandidates(string name, bool forFrames)
    {
        if (!string.Equals(name, "auto", StringComparison.OrdinalIgnoreCase))
        {
            var engine = _engines.FindOcr(name) ?? throw new MediaException(MediaErrorCode.InvalidRequest,
                $"Unknown OCR engine '{name}'. Available: auto, {string.Join(", ", _engines.Ocr.Select(e => e.Name))}.");
            return [engine];
        }

        var order = forFrames ? new[] { PaddleOcrEngine.EngineName, TesseractOcrEngine.EngineName } : [TesseractOcrEngine.EngineName, PaddleOcrEngine.EngineName];
        var list = order.Select(_engines.FindOcr).OfType<IOcrEngine>().ToList();
        list.AddRange(_engines.Ocr.Where(e => !list.Contains(e)));
        // Engines whose models are missing drop out of "auto" instead of failing it.
        return list.Where(e => e is not PaddleOcrEngine p || p.IsInstalled).ToList();
    }

    private async Task<OcrResult> OcrAsync(string imagePath, OcrOptions options, bool forFrames, CancellationToken cancellationToken)
    {
        var candidates = OcrCandidates(options.Engine, forFrames);
        if (candidates.Count == 0)
        {
            throw new MediaException(MediaErrorCode.ToolMissing, "No OCR engine is installed: install tesseract-ocr or run eng/fetch-models.sh.");
        }

        var first = await candidates[0].RecognizeAsync(imagePath, options, cancellationToken).ConfigureAwait(false);
        var isAuto = string.Equals(options.Engine, "auto", StringComparison.OrdinalIgnoreCase);
        if (!isAuto || candidates.Count == 1 || (first.Words.Count > 0 && first.MeanConfidence >= 0.6))
        {
            return first;
        }

        // Low confidence: the other engine may read this kind of image (scene text, or dense documents) better.
        var second = await candidates[1].RecognizeAsync(imagePath, options, cancellationToken).ConfigureAwait(false);
        return second.Words.Count > 0 && (first.Words.Count == 0 || second.MeanConfidence > first.MeanConfidence) ? second : first;
    }

    private async Task<FramesResult> FramesAsync(
        StagedInput input, RecordingInfo recording, FramesOptions options, string outputDirectory, MediaJob job, double from, double to, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outputDirectory);
        var span = options.Ocr ? (to - from) * 0.5 : to - from;
        job.Report("frames", from);
        var frames = await _frames.ExtractAsync(input.Path, input.Format, recording, options, outputDirectory, new SyncProgress(f => job.Report("frames", from + (f * span))), cancellationToken).ConfigureAwait(false);
        if (options.Ocr)
        {
            var ocrOptions = FrameOcrOptions(options);
            for (var i = 0; i < frames.Count; i++)
            {
                job.Report("ocr", from + span + ((to - from - span) * i / frames.Count), $"frame {i + 1} of {frames.Count}");
                var ocr = await OcrAsync(Path.Combine(outputDirectory, frames[i].FileName), ocrOptions, forFrames: true, cancellationToken).ConfigureAwait(false);
                frames[i] = frames[i] with { Ocr = ocr };
            }
        }

        return new FramesResult { Mode = options.Mode, DurationSeconds = recording.DurationSeconds, Frames = frames };
    }

    private async Task<TranscriptResult> TranscribeAsync(
        StagedInput input, RecordingInfo recording, TranscribeOptions options, string workDirectory, MediaJob job, double from, double to, CancellationToken cancellationToken)
    {
        job.Report("extracting audio", from);
        var wav = Path.Combine(workDirectory, "speech.wav");
        await _audio.ExtractSpeechWavAsync(input.Path, input.Format, recording, wav, cancellationToken).ConfigureAwait(false);
        job.Report("transcribing", from + ((to - from) * 0.05));
        return await _engines.Transcriber.TranscribeAsync(wav, recording.DurationSeconds, options,
            new SyncProgress(f => job.Report("transcribing", from + ((to - from) * (0.05 + (0.95 * f))))), cancellationToken).ConfigureAwait(false);
    }

    private async Task<DescriptionResult> DescribeImageAsync(StagedInput input, DescribeOptions options, string? facts, MediaJob job, CancellationToken cancellationToken)
    {
        byte[] jpeg;
        using (var bgr = _images.LoadBgr(input.Path, input.Format))
        {
            jpeg = ImageDescriber.EncodeForModel(bgr, _options.DescribeMaxImageSide);
        }

        job.Report("describing", 0.6);
        return await _describer.DescribeAsync([jpeg], options.Prompt, facts, cancellationToken).ConfigureAwait(false);
    }

    private async Task<DescriptionResult> DescribeVideoAsync(
        StagedInput input, RecordingInfo recording, DescribeOptions options, string workDirectory, MediaJob job, FramesResult? existing, string? artifacts, CancellationToken cancellationToken)
    {
        if (!_describer.IsAvailable)
        {
            await _describer.DescribeAsync([], null, null, cancellationToken).ConfigureAwait(false);
        }

        var dir = artifacts ?? Path.Combine(workDirectory, "describe-frames");
        var frames = existing ?? await FramesAsync(input, recording, new FramesOptions { MaxFrames = options.MaxFrames, MaxWidth = _options.DescribeMaxImageSide }, dir, job, 0.1, 0.5, cancellationToken).ConfigureAwait(false);
        var picks = Spread(frames.Frames, options.MaxFrames);
        var jpegs = new List<byte[]>(picks.Count);
        foreach (var frame in picks)
        {
            using var mat = Cv2.ImRead(Path.Combine(dir, frame.FileName), ImreadModes.Color);
            jpegs.Add(ImageDescriber.EncodeForModel(mat, _options.DescribeMaxImageSide));
        }

        job.Report("describing", 0.6);
        var prompt = options.Prompt ?? "These are frames of one video, in time order. Describe what happens in the video in a few sentences, including any visible text. Be factual.";
        return await _describer.DescribeAsync(jpegs, prompt, null, cancellationToken).ConfigureAwait(false);
    }

    private static List<VideoFrame> Spread(IReadOnlyList<VideoFrame> frames, int count)
    {
        if (frames.Count <= count)
        {
            return [.. frames];
        }

        return Enumerable.Range(0, count).Select(i => frames[(int)Math.Round(i * (frames.Count - 1) / (double)(count - 1))]).Distinct().ToList();
    }

    private async Task<MediaResult> VideoContextAsync(
        StagedInput input, RecordingInfo recording, MediaRequest request, MediaResult result, string workDirectory, string artifactsDirectory, MediaJob job, CancellationToken cancellationToken)
    {
        var hasVideo = recording.Streams.Any(s => s.Type == "video");
        var hasAudio = recording.Streams.Any(s => s.Type == "audio");
        if (hasVideo)
        {
            var frameOptions = new FramesOptions { Mode = FrameSelection.Scenes, MaxFrames = 12, Ocr = true };
            result = result with { Frames = await FramesAsync(input, recording, frameOptions, artifactsDirectory, job, 0.05, hasAudio ? 0.5 : 0.9, cancellationToken).ConfigureAwait(false) };
        }

        if (hasAudio)
        {
            result = result with { Transcript = await TranscribeAsync(input, recording, request.Transcribe, workDirectory, job, hasVideo ? 0.5 : 0.05, 0.9, cancellationToken).ConfigureAwait(false) };
        }

        if (request.Context.IncludeDescription && hasVideo && _describer.IsAvailable)
        {
            result = result with { Description = await DescribeVideoAsync(input, recording, request.Describe, workDirectory, job, result.Frames, artifactsDirectory, cancellationToken).ConfigureAwait(false) };
        }
        else if (request.Context.IncludeDescription && hasVideo)
        {
            result = result with { Warnings = [NoDescriptionWarning] };
        }

        return result with { Context = ContextCardBuilder.Build(result, request.FileName, request.Context.MaxLength) };
    }

    /// <summary>Reports progress synchronously (System.Progress would post to the thread pool and reorder reports).</summary>
    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
