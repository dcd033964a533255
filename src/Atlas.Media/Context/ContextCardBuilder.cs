using System.Globalization;
using System.Text;

namespace Atlas.Media.Context;

/// <summary>Renders a <see cref="MediaResult"/> as a compact, labelled plain-text card for an LLM prompt.</summary>
internal static class ContextCardBuilder
{
    public static MediaContext Build(MediaResult result, string? fileName, int maxLength)
    {
        var card = new StringBuilder();
        var truncated = false;
        var header = new List<string> { result.ContentType, FormatBytes(result.SizeBytes) };
        if (result.Image is { } img)
        {
            header.Insert(1, $"{img.Width}×{img.Height}");
        }

        if (result.Recording is { } rec)
        {
            header.Insert(1, Invariant($"{rec.DurationSeconds:0.0} s"));
            foreach (var s in rec.Streams)
            {
                header.Add(s.Type == "video" ? $"video {s.Codec} {s.Width}×{s.Height}" : Invariant($"audio {s.Codec} {s.SampleRate} Hz"));
            }
        }

        card.Append("[Media").Append(fileName is null ? string.Empty : ": " + Sanitize(fileName)).Append(" — ").Append(string.Join(", ", header)).Append("]\n");

        if (result.Image is { } image)
        {
            if (image.Exif is { } exif)
            {
                var taken = new List<string>();
                if (exif.TakenAt is not null)
                {
                    taken.Add("taken " + exif.TakenAt);
                }

                if (exif.Make is not null || exif.Model is not null)
                {
                    taken.Add("with " + string.Join(' ', new[] { exif.Make, exif.Model }.Where(s => s is not null)));
                }

                if (exif.Latitude is { } lat && exif.Longitude is { } lon)
                {
                    taken.Add(Invariant($"at GPS {lat:0.#####}, {lon:0.#####}"));
                }

                if (taken.Count > 0)
                {
                    card.Append("Capture: ").Append(string.Join(", ", taken)).Append('\n');
                }
            }

            var look = new List<string> { Invariant($"brightness {image.Brightness:0}/255") };
            if (image.IsDark)
            {
                look.Add("very dark");
            }

            if (image.IsOverexposed)
            {
                look.Add("overexposed");
            }

            look.Add(image.IsBlurry ? "blurry" : "sharp");
            if (image.Colors.Count > 0)
            {
                look.Add("colours " + string.Join(' ', image.Colors.Take(3).Select(c => Invariant($"{c.Hex} ({c.Fraction:P0})"))));
            }

            if (image.Faces is { } faces)
            {
                look.Add(faces.Count == 1 ? "1 face" : Invariant($"{faces.Count} faces"));
            }

            card.Append("Image: ").Append(string.Join(", ", look)).Append('\n');
            foreach (var code in image.Codes)
            {
                card.Append("Code (").Append(code.Symbology).Append("): ").Append(Sanitize(code.Text)).Append('\n');
            }
        }

        if (result.Description is { } description)
        {
            card.Append("Description (vision model").Append(description.Model is null ? string.Empty : " " + description.Model).Append("): ")
                .Append(description.Text.Trim()).Append('\n');
        }

        if (result.Frames is { } frames)
        {
            card.Append(Invariant($"Scenes: {frames.Frames.Count} (at {string.Join(", ", frames.Frames.Select(f => Clock(f.Seconds)))})\n"));
            var screenText = frames.Frames.Where(f => f.Ocr is { Text.Length: > 0 }).ToList();
            if (screenText.Count > 0)
            {
                card.Append("Text on screen:\n");
                foreach (var f in screenText)
                {
                    card.Append(' ').Append(Clock(f.Seconds)).Append(' ').Append(f.Ocr!.Text.Replace('\n', ' ')).Append('\n');
                }
            }
        }

        if (result.Ocr is { Text.Length: > 0 } ocr)
        {
            card.Append(Invariant($"Text (OCR, {ocr.Engine}, confidence {ocr.MeanConfidence:0.00}):\n")).Append(ocr.Text.Trim()).Append('\n');
        }
        else if (result.Ocr is not null)
        {
            card.Append("Text (OCR): none found\n");
        }

        if (result.Transcript is { } transcript)
        {
            if (transcript.Segments.Count == 0)
            {
                card.Append("Transcript: no speech recognised\n");
            }
            else
            {
                card.Append(Invariant($"Transcript ({transcript.Engine}, {transcript.Language}, confidence {transcript.MeanConfidence:0.00}; automatic, may contain errors):\n"));
                foreach (var s in transcript.Segments)
                {
                    card.Append(" [").Append(Clock(s.Start)).Append('–').Append(Clock(s.End)).Append("] ").Append(s.Text).Append('\n');
                }
            }
        }

        var text = card.ToString();
        if (text.Length > maxLength)
        {
            text = text[..(maxLength - 1)] + "…";
            truncated = true;
        }

        return new MediaContext { Text = text, Truncated = truncated };
    }

    private static string Clock(double seconds)
    {
        var t = TimeSpan.FromSeconds(seconds);
        return t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => Invariant($"{bytes} B"),
        < 1024 * 1024 => Invariant($"{bytes / 1024.0:0} KB"),
        _ => Invariant($"{bytes / (1024.0 * 1024):0.0} MB"),
    };

    /// <summary>Keeps user-controlled strings on one line so they cannot forge card sections.</summary>
    private static string Sanitize(string s) => s.ReplaceLineEndings(" ").Replace('[', '(').Replace(']', ')');

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
