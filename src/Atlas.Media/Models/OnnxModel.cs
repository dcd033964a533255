using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;

namespace Atlas.Media.Models;

/// <summary>
/// One ONNX model on ONNX Runtime with a single float input. Sessions run one intra-op thread: the job queue already
/// runs one job per core, so more threads would only oversubscribe. <c>Run</c> is safe to call concurrently.
/// </summary>
internal sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string[] _outputNames;

    public OnnxModel(string path)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try
        {
            _session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new MediaException(MediaErrorCode.ModelMissing, $"The model file {path} could not be loaded ({ex.Message}). Run eng/fetch-models.sh again.", ex);
        }

        _inputName = _session.InputNames[0];
        _outputNames = [.. _session.OutputNames];
        using var stream = File.OpenRead(path);
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
    }

    /// <summary>The first 16 hex digits of the model file's SHA-256 (part of engine versions).</summary>
    public string Sha256 { get; }

    public IReadOnlyList<int> InputDimensions => _session.InputMetadata[_inputName].Dimensions;

    public Dictionary<string, (float[] Data, long[] Shape)> Run(float[] input, long[] shape)
    {
        using var runOptions = new RunOptions();
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var outputs = _session.Run(runOptions, [_inputName], [value], _outputNames);
        var result = new Dictionary<string, (float[] Data, long[] Shape)>(StringComparer.Ordinal);
        var i = 0;
        foreach (var output in outputs)
        {
            result[_outputNames[i++]] = (output.GetTensorDataAsSpan<float>().ToArray(), output.GetTensorTypeAndShape().Shape);
        }

        return result;
    }

    public void Dispose() => _session.Dispose();
}
