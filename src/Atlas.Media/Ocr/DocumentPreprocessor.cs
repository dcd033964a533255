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
        Cv2.Threshold(small, ink, 0, 255, ThresholdTypes.BinaryInv | ThresholdTypes.Otsu);

        // Mostly-dark images (light text on dark) have "ink" as the background: flip so text is the minority.
        if (Cv2.CountNonZero(ink) > ink.Rows * ink.Cols / 2)
        {
            Cv2.BitwiseNot(ink, ink);
        }

        // Solid regions (the table around a photographed page, dark margins, pictures) are not text and would pull
        // the estimate towards the image frame: keep only thin strokes by removing what survives a 9×9 opening.
        using (var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(9, 9)))
        using (var solid = new Mat())
        {
            Cv2.MorphologyEx(ink, solid, MorphTypes.Open, kernel);
            Cv2.Subtract(ink, solid, ink);
        }

        var profile = new InkProfile(ink);
        if (profile.IsEmpty)
        {
            return new Plan(0, 1);
        }

        var best = 0.0;
        var bestScore = double.MinValue;
        void Search(double from, double to, double step)
        {
            for (var a = from; a <= to + 1e-9; a += step)
            {
                var s = profile.Score(a);
                if (s > bestScore)
                {
                    bestScore = s;
                    best = a;
                }
            }
        }

        Search(-44, 44, 1);
        var coarse = best;
        Search(coarse - 0.9, coarse + 0.9, 0.1);

        var angle = Math.Abs(best) < MinCorrectionDegrees ? 0 : best;
        var lineHeight = profile.MedianLineHeight(angle) / factor;
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

    /// <summary>
    /// The ink pixels of the analysed image and their row histogram after rotation by a candidate angle. Rotating
    /// the point set (rather than warping the image) makes one candidate cost one pass over the ink pixels.
    /// </summary>
    private sealed class InkProfile
    {
        private const int MaxPoints = 60_000;
        private readonly float[] _x;
        private readonly float[] _y;
        private readonly int _offset;
        private readonly int[] _bins;

        public InkProfile(Mat ink)
        {
            using var points = new Mat();
            Cv2.FindNonZero(ink, points);
            var count = points.Rows;
            var stride = Math.Max(1, count / MaxPoints);
            var n = count / stride;
            _x = new float[n];
            _y = new float[n];
            if (n > 0)
            {
                points.GetArray(out Point[] all);
                float cx = ink.Width / 2f, cy = ink.Height / 2f;
                for (var i = 0; i < n; i++)
                {
                    _x[i] = all[i * stride].X - cx;
                    _y[i] = all[i * stride].Y - cy;
                }
            }

            _offset = (int)Math.Ceiling(Math.Sqrt((ink.Width * ink.Width) + (ink.Height * ink.Height)) / 2) + 1;
            _bins = new int[(2 * _offset) + 1];
        }

        public bool IsEmpty => _x.Length == 0;

        /// <summary>Sum of squared row counts: largest when text lines are horizontal (sharp peaks and empty gaps).</summary>
        public double Score(double angle)
        {
            Fill(angle);
            double sum = 0;
            foreach (var b in _bins)
            {
                sum += (double)b * b;
            }

            return sum;
        }

        /// <summary>Median height of runs of inked rows at the given angle: the typical text line height.</summary>
        public double MedianLineHeight(double angle)
        {
            Fill(angle);
            var max = _bins.Max();
            var threshold = Math.Max(1, max / 20);
            var heights = new List<int>();
            var run = 0;
            foreach (var b in _bins)
            {
                if (b >= threshold)
                {
                    run++;
                }
                else
                {
                    if (run >= 2)
                    {
                        heights.Add(run);
                    }

                    run = 0;
                }
            }

            if (heights.Count == 0)
            {
                return 0;
            }

            heights.Sort();
            return heights[heights.Count / 2];
        }

        private void Fill(double angle)
        {
            Array.Clear(_bins);
            var rad = angle * Math.PI / 180;
            var sin = (float)Math.Sin(rad);
            var cos = (float)Math.Cos(rad);
            for (var i = 0; i < _x.Length; i++)
            {
                // Row of the point after OpenCV's rotation by +angle (counter-clockwise on screen) about the centre.
                var row = (int)((-_x[i] * sin) + (_y[i] * cos)) + _offset;
                _bins[row]++;
            }
        }
    }
}
