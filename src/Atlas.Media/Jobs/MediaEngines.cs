using Atlas.Media.Analysis;
using Atlas.Media.Ocr;
using Atlas.Media.Speech;

namespace Atlas.Media.Jobs;

/// <summary>The replaceable engines a pipeline uses.</summary>
internal sealed record MediaEngines(IReadOnlyList<IOcrEngine> Ocr, ITranscriber Transcriber, IFaceDetector Faces, IBarcodeReader Codes)
{
    public IOcrEngine? FindOcr(string name) => Ocr.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
}
