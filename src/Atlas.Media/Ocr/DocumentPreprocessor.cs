using OpenCvSharp;

namespace Atlas.Media.Ocr;

/// <summary>
/// Prepares photos of documents for tesseract, which reads flat upright text very well and collapses on rotated or
/// tiny text: estimates the skew by maximising the variance of the row-ink profile (coarse-to-fine search over
/// ±45°), estimates the text line height from the same profile, and rotates and upscales in one affine warp.
/// </summary>
internal static class DocumentPreprocessor
{
    private const int AnalysisSide = 640;
    private const double MinCorrectionDegrees = 0.4;
    private const double TargetLineHeight = 34;
    private const double MinLineHeight = 22;

    /// <summary>The correction to apply: rotation (degrees, OpenCV convention) and scale.</summary>
    public readonly record struct Plan(double AngleDegrees, double Scale)
    {
        public bool IsIdentity => Math.Abs(AngleDegrees) < MinCorrectionDegrees && Scale <= 1.0;
    }

    public static Plan Analyze(Mat gray)
    {
        var factor = Math.Min(1.0, AnalysisSide / (double)Math.Max(gray.Width, gray.Height));
        using var small = factor < 1.0 ? gray.Resize(new Size(), factor, factor, InterpolationFlags.Area) : gray.Clone();
        using var ink = new Mat();
        Cv2.Threshold(small, ink, 0, 1, ThresholdTypes.BinaryInv | ThresholdTypes.Otsu);

        // Mostly-dark images (light text on dark) have "ink" as the background: flip so text is the minority.
        if (Cv2.CountNonZero(ink) > ink.Rows * ink.Cols / 2)
        {
            Cv2.Subtract(Scalar.All(1), ink, ink);
        }

        var best = 0.0;
        var bestScore = double.MinValue;
        void Search(double from, double to, double step)
        {
            for (var a = from; a <= to + 1e-9; a += step)
            {
                var s = ProfileScore(ink, a);
                if (s > bestScore)
                {
                    bestScore = s;
                    best = a;
                }
            }
        }

        Search(-44, 44, 2);
        var coarse = best;
        Search(coarse - 1.5, coarse + 1.5, 0.5);
        var medium = best;
        Search(medium - 0.4, medium + 0.4, 0.1);

        var angle = Math.Abs(best) < MinCorrectionDegrees ? 0 : best;
        var lineHeight = MedianLineHeight(ink, angle) / factor;
        var scale = lineHeight is > 0 and < MinLineHeight ? Math.Min(3.0, TargetLineHeight / lineHeight) : 1.0;
        return new Plan(Math.Round(angle, 1), Math.Round(scale, 2));
    }

    /// <summary>Rotates (around the centre, growing the canvas so no corner is cut) and scales.</summary>
    /// <returns>The corrected image and the 2×3 matrix that maps corrected coordinates back to the original.</returns>
    public static (Mat Image, double[] Inverse) Apply(Mat gray, Plan plan)
    {
        var rad = plan.AngleDegrees * Math.PI / 180;
        var cos = Math.Abs(Math.Cos(rad));
        var sin = Math.Abs(Math.Sin(rad));
        var newW = (int)Math.Ceiling((gray.Height * sin + gray.Width * cos) * plan.Scale);
        var newH = (int)Math.Ceiling((gray.Height * cos + gray.Width * sin) * plan.Scale);
        var center = new Point2f(gray.Width / 2f, gray.Height / 2f);
        using var m = Cv2.GetRotationMatrix2D(center, plan.AngleDegrees, plan.Scale);
        m.Set(0, 2, m.At<double>(0, 2) + (newW / 2.0) - center.X);
        m.Set(1, 2, m.At<double>(1, 2) + (newH / 2.0) - center.Y);
        var output = new Mat();
        Cv2.WarpAffine(gray, output, m, new Size(newW, newH), InterpolationFlags.Cubic, BorderTypes.Replicate);
        using var inv = new Mat();
        Cv2.InvertAffineTransform(m, inv);
        var inverse = new double[6];
        for (var r = 0; r < 2; r++)
        {
            for (var c = 0; c < 3; c++)
            {
                inverse[(r * 3) + c] = inv.At<double>(r, c);
            }
        }

        return (output, inverse);
    }

    /// <summary>Maps a box of the corrected image back to the bounding box of its corners in the original image.</summary>
    public static PixelBox MapBack(double[] inverse, int x, int y, int w, int h, int maxW, int maxH)
    {
        double minX = double.MaxValue, minY = double.MaxValue, maxX = double.MinValue, maxY = double.MinValue;
        foreach (var (px, py) in new[] { (x, y), (x + w, y), (x, y + h), (x + w, y + h) })
        {
            var ox = (inverse[0] * px) + (inverse[1] * py) + inverse[2];
            var oy = (inverse[3] * px) + (inverse[4] * py) + inverse[5];
            minX = Math.Min(minX, ox);
            minY = Math.Min(minY, oy);
            maxX = Math.Max(maxX, ox);
            maxY = Math.Max(maxY, oy);
        }

        var left = (int)Math.Clamp(Math.Floor(minX), 0, maxW);
        var top = (int)Math.Clamp(Math.Floor(minY), 0, maxH);
        var right = (int)Math.Clamp(Math.Ceiling(maxX), 0, maxW);
        var bottom = (int)Math.Clamp(Math.Ceiling(maxY), 0, maxH);
        return PixelBox.Of(left, top, right - left, bottom - top);
    }

    private static double ProfileScore(Mat ink, double angle)
    {
        using var rotated = Rotate(ink, angle);
        using var rows = new Mat();
        Cv2.Reduce(rotated, rows, ReduceDimension.Column, ReduceTypes.Sum, MatType.CV_32S);
        Cv2.MeanStdDev(rows, out _, out var sd);
        return sd.Val0;
    }

    private static Mat Rotate(Mat ink, double angle)
    {
        if (angle == 0)
        {
            return ink.Clone();
        }

        using var r = Cv2.GetRotationMatrix2D(new Point2f(ink.Width / 2f, ink.Height / 2f), angle, 1.0);
        var rotated = new Mat();
        Cv2.WarpAffine(ink, rotated, r, ink.Size(), InterpolationFlags.Nearest, BorderTypes.Constant, Scalar.Black);
        return rotated;
    }

    /// <summary>Median height of runs of inked rows: the typical text line height in the analysed image.</summary>
    private static double MedianLineHeight(Mat ink, double angle)
    {
        using var rotated = Rotate(ink, angle);
        using var rows = new Mat();
        Cv2.Reduce(rotated, rows, ReduceDimension.Column, ReduceTypes.Sum, MatType.CV_32S);
        rows.GetArray(out int[] sums);
        var max = sums.Length == 0 ? 0 : sums.Max();
        if (max == 0)
        {
            return 0;
        }

        var threshold = Math.Max(1, max / 20);
        var heights = new List<int>();
        var run = 0;
        foreach (var s in sums)
        {
            if (s >= threshold)
            {
                run++;
            }
            else if (run > 0)
            {
                heights.Add(run);
                run = 0;
            }
        }

        if (run > 0)
        {
            heights.Add(run);
        }

        heights.RemoveAll(h => h < 2);
        if (heights.Count == 0)
        {
            return 0;
        }

        heights.Sort();
        return heights[heights.Count / 2];
    }
}
