using System.Globalization;
using System.Text.Json;
using Atlas.Media.Input;
using Atlas.Media.Processes;

namespace Atlas.Media.Video;

/// <summary>Reads a recording's container and streams with ffprobe and enforces the duration and pixel limits.</summary>
internal sealed class MediaProbe
{
    private readonly ToolRunner _runner;
    private readonly AtlasMediaOptions _options;

    public MediaProbe(ToolRunner runner, AtlasMediaOptions options)
    {
        _runner = runner;
        _options = options;
    }

    public async Task<RecordingInfo> ProbeAsync(string path, SniffedFormat format, CancellationToken cancellationToken)
    {
        var args = new List<string> { "-v", "error", "-print_format", "json", "-show_format", "-show_streams" };
        args.AddRange(FfmpegSafety.InputArguments(format.Demuxer!, path));
        ToolOutcome outcome;
        try
        {
            outcome = await _runner.RunAsync(new ToolInvocation("ffprobe", args), cancellationToken).ConfigureAwait(false);
        }
        catch (MediaException ex) when (ex.Code == MediaErrorCode.ToolFailed)
        {
            throw new MediaException(MediaErrorCode.CorruptInput,
                $"The {format.Name} file could not be read; it is corrupt or truncated ({ex.Message}).", ex);
        }

        var info = Parse(outcome.StandardOutput, format);
        if (!FfmpegSafety.IsExpectedContainer(format.Demuxer!, info.Container))
        {
            throw new MediaException(MediaErrorCode.UnsafeInput, $"The file's bytes say {format.Name} but the decoder read it as '{info.Container}'; it is refused.");
        }

        if (info.Streams.Count == 0)
        {
            throw new MediaException(MediaErrorCode.CorruptInput, $"The {format.Name} file has no audio or video stream that can be decoded.");
        }

        if (info.DurationSeconds > _options.MaxDuration.TotalSeconds)
        {
            throw new MediaException(MediaErrorCode.TooLong,
                $"The recording is {TimeSpan.FromSeconds(info.DurationSeconds):g} long; the limit is {_options.MaxDuration:g} (Atlas:Media:MaxDuration). Trim it first.");
        }

        foreach (var s in info.Streams)
        {
            if (s.Width is { } w && s.Height is { } h && (long)w * h > _options.MaxPixels)
            {
                throw new MediaException(MediaErrorCode.TooManyPixels,
                    $"The video is {w}×{h} ({(long)w * h:N0} pixels per frame); the limit is {_options.MaxPixels:N0} (Atlas:Media:MaxPixels).");
            }
        }

        return info;
    }

    internal static RecordingInfo Parse(string json, SniffedFormat format)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var streams = new List<StreamInfo>();
            if (root.TryGetProperty("streams", out var list))
            {
                foreach (var s in list.EnumerateArray())
                {
                    var type = Str(s, "codec_type");
                    if (type is not ("video" or "audio"))
                    {
                        continue;
                    }

                    if (type == "video" && s.TryGetProperty("disposition", out var disp) && disp.TryGetProperty("attached_pic", out var pic) && pic.GetInt32() == 1)
                    {
                        continue; // cover art, not video
                    }

                    streams.Add(new StreamInfo
                    {
                        Type = type,
                        Codec = Str(s, "codec_name") ?? "unknown",
                        Width = Int(s, "width"),
                        Height = Int(s, "height"),
                        FrameRate = type == "video" ? Rate(Str(s, "avg_frame_rate")) : null,
                        Rotation = type == "video" ? Rotation(s) : null,
                        SampleRate = Int(s, "sample_rate"),
                        Channels = Int(s, "channels"),
                    });
                }
            }

            var fmt = root.TryGetProperty("format", out var f) ? f : default;
            var tags = fmt.ValueKind == JsonValueKind.Object && fmt.TryGetProperty("tags", out var t) ? t : default;
            return new RecordingInfo
            {
                Container = fmt.ValueKind == JsonValueKind.Object ? Str(fmt, "format_name") ?? format.Name : format.Name,
                DurationSeconds = fmt.ValueKind == JsonValueKind.Object ? Math.Round(Dbl(fmt, "duration") ?? 0, 3) : 0,
                BitRate = fmt.ValueKind == JsonValueKind.Object ? Long(fmt, "bit_rate") : null,
                CreatedAt = tags.ValueKind == JsonValueKind.Object && Str(tags, "creation_time") is { } c &&
                    DateTimeOffset.TryParse(c, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created) ? created : null,
                Location = tags.ValueKind == JsonValueKind.Object ? Str(tags, "location") ?? Str(tags, "com.apple.quicktime.location.ISO6709") : null,
                Streams = streams,
            };
        }
        catch (JsonException ex)
        {
            throw new MediaException(MediaErrorCode.CorruptInput, "ffprobe could not describe the file; it is corrupt.", ex);
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ToString() : null;

    private static int? Int(JsonElement e, string name) =>
        Str(e, name) is { } s && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;

    private static long? Long(JsonElement e, string name) =>
        Str(e, name) is { } s && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;

    private static double? Dbl(JsonElement e, string name) =>
        Str(e, name) is { } s && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static double? Rate(string? r)
    {
        if (r is null)
        {
            return null;
        }

        var parts = r.Split('/');
        return parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) &&
               double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0
            ? Math.Round(n / d, 3)
            : null;
    }

    private static int? Rotation(JsonElement s)
    {
        if (s.TryGetProperty("side_data_list", out var sides))
        {
            foreach (var side in sides.EnumerateArray())
            {
                if (Int(side, "rotation") is { } r)
                {
                    return r;
                }
            }
        }

        return s.TryGetProperty("tags", out var tags) ? Int(tags, "rotate") : null;
    }
}
