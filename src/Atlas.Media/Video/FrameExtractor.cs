using System.Globalization;
using System.Text.RegularExpressions;
using Atlas.Media.Input;
using Atlas.Media.Processes;

namespace Atlas.Media.Video;

/// <summary>Extracts scene-change, interval or key frames with one ffmpeg run, timestamps read from <c>showinfo</c>.</summary>
internal sealed partial class FrameExtractor
{
    private readonly ToolRunner _runner;

    public FrameExtractor(ToolRunner runner)
    {
        _runner = runner;
    }

    public async Task<List<VideoFrame>> ExtractAsync(
        string path, SniffedFormat format, RecordingInfo info, FramesOptions options, string outputDirectory,
        IProgress<double>? progress, CancellationToken cancellationToken)
    {
        if (!info.Streams.Any(s => s.Type == "video"))
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, "The file has no video stream to take frames from; use transcribe for audio.");
        }

        var filter = options.Mode switch
        {
            FrameSelection.Scenes => string.Create(CultureInfo.InvariantCulture, $"select='eq(n\\,0)+gt(scene\\,{options.SceneThreshold:0.###})',"),
            FrameSelection.Interval => string.Create(CultureInfo.InvariantCulture, $"fps=1/{options.IntervalSeconds:0.###},"),
            _ => string.Empty,
        };
        filter += string.Create(CultureInfo.InvariantCulture, $"scale='min({options.MaxWidth},iw)':-2,showinfo");

        var args = new List<string> { "-nostdin", "-hide_banner", "-loglevel", "info" };
        if (options.Mode == FrameSelection.KeyFrames)
        {
            args.AddRange(["-skip_frame", "nokey"]);
        }

        args.AddRange(FfmpegSafety.InputArguments(format.Demuxer!, path));
        args.AddRange([
            "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", filter, "-fps_mode", "vfr",
            "-frames:v", options.MaxFrames.ToString(CultureInfo.InvariantCulture), "-q:v", "3",
            "-progress", "pipe:1", "-nostats", "-f", "image2", "file:" + Path.Combine(outputDirectory, "frame_%04d.jpg"),
        ]);

        var times = new List<double>();
        var duration = Math.Max(0.001, info.DurationSeconds);
        var invocation = new ToolInvocation("ffmpeg", args)
        {
            OnErrorLine = line =>
            {
                if (line.Contains("Parsed_showinfo", StringComparison.Ordinal) && PtsTime().Match(line) is { Success: true } m)
                {
                    lock (times)
                    {
                        times.Add(double.Parse(m.Groups[1].ValueSpan, NumberStyles.Float, CultureInfo.InvariantCulture));
                    }
                }
            },
            OnOutputLine = line =>
            {
                if (progress is not null && line.StartsWith("out_time_us=", StringComparison.Ordinal) &&
                    long.TryParse(line.AsSpan(12), NumberStyles.Integer, CultureInfo.InvariantCulture, out var us))
                {
                    progress.Report(Math.Clamp(us / 1e6 / duration, 0, 1));
                }
            },
        };
        await _runner.RunAsync(invocation, cancellationToken).ConfigureAwait(false);

        var files = Directory.GetFiles(outputDirectory, "frame_*.jpg").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
        {
            throw new MediaException(MediaErrorCode.CorruptInput, "No frame could be decoded from the video; it is corrupt or truncated.");
        }

        var frames = new List<VideoFrame>(files.Length);
        for (var i = 0; i < files.Length; i++)
        {
            var size = ImageHeader.TryReadSize(files[i]) ?? (0, 0);
            frames.Add(new VideoFrame
            {
                Index = i,
                Seconds = i < times.Count ? Math.Round(times[i], 3) : 0,
                FileName = Path.GetFileName(files[i]),
                Width = size.Width,
                Height = size.Height,
            });
        }

        return frames;
    }

    [GeneratedRegex(@"pts_time:\s*([0-9.]+)")]
    private static partial Regex PtsTime();
}
