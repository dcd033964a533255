using System.Globalization;
using OpenCvSharp;

namespace Atlas.Media.Analysis;

/// <summary>Brightness, contrast, sharpness, dominant colours and a perceptual hash with OpenCV.</summary>
internal static class ImageStatistics
{
    public const double BlurryBelow = 100;

    public static (double Brightness, double Contrast) Luminance(Mat gray)
    {
        Cv2.MeanStdDev(gray, out var mean, out var std);
        return (Math.Round(mean.Val0, 1), Math.Round(std.Val0, 1));
    }

    /// <summary>Variance of the Laplacian on a copy no larger than 1024 pixels, so the figure is comparable across sizes.</summary>
    public static double Sharpness(Mat gray)
    {
        using var small = ResizeMax(gray, 1024);
        using var lap = new Mat();
        Cv2.Laplacian(small, lap, MatType.CV_64F);
        Cv2.MeanStdDev(lap, out _, out var sd);
        return Math.Round(sd.Val0 * sd.Val0, 1);
    }

    /// <summary>k-means (k = 5, fixed seed) over a 64×64 thumbnail; colours under 3 % are dropped.</summary>
    public static List<DominantColor> DominantColors(Mat bgr)
    {
        const int K = 5;
        using var small = bgr.Resize(new Size(64, 64), 0, 0, InterpolationFlags.Area);
        using var samples = small.Reshape(1, 64 * 64);
        using var floats = new Mat();
        samples.ConvertTo(floats, MatType.CV_32F);
        using var labels = new Mat();
        using var centers = new Mat();
        Cv2.SetTheRNG(1);
        Cv2.Kmeans(floats, K, labels, new TermCriteria(CriteriaTypes.Eps | CriteriaTypes.MaxIter, 20, 1.0), 3, KMeansFlags.PpCenters, centers);
        var counts = new int[K];
        labels.GetArray(out int[] assigned);
        foreach (var a in assigned)
        {
            counts[a]++;
        }

        var total = (double)assigned.Length;
        return Enumerable.Range(0, K)
            .Where(i => counts[i] / total >= 0.03)
            .OrderByDescending(i => counts[i])
            .Select(i => new DominantColor
            {
                Hex = string.Create(CultureInfo.InvariantCulture, $"#{Channel(centers, i, 2):X2}{Channel(centers, i, 1):X2}{Channel(centers, i, 0):X2}"),
                Fraction = Math.Round(counts[i] / total, 3),
            })
            .ToList();
    }

    /// <summary>64-bit DCT perceptual hash: the low 8×8 frequencies of a 32×32 thumbnail against their median.</summary>
    public static string PerceptualHash(Mat gray)
    {
        using var small = gray.Resize(new Size(32, 32), 0, 0, InterpolationFlags.Area);
        using var floats = new Mat();
        small.ConvertTo(floats, MatType.CV_32F);
        using var dct = new Mat();
        Cv2.Dct(floats, dct);
        var values = new float[64];
        for (var y = 0; y < 8; y++)
        {
            for (var x = 0; x < 8; x++)
            {
                values[(y * 8) + x] = dct.At<float>(y, x);
            }
        }

        var sorted = values.Skip(1).Order().ToArray();
        var median = sorted[sorted.Length / 2];
        ulong hash = 0;
        for (var i = 0; i < 64; i++)
        {
            if (values[i] > median)
            {
                hash |= 1UL << i;
            }
        }

        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }

    private static int Channel(Mat centers, int row, int col) => (int)Math.Clamp(Math.Round(centers.At<float>(row, col)), 0, 255);

    private static Mat ResizeMax(Mat m, int max)
    {
        var s = Math.Min(1.0, max / (double)Math.Max(m.Width, m.Height));
        return s >= 1.0 ? m.Clone() : m.Resize(new Size(), s, s, InterpolationFlags.Area);
    }
}
