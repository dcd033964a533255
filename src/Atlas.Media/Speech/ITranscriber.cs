namespace Atlas.Media.Speech;

/// <summary>A speech recogniser. Register another implementation in DI to replace pocketsphinx (for example Whisper).</summary>
public interface ITranscriber
{
    /// <summary>The recogniser's name.</summary>
    string Name { get; }

    /// <summary>A version string that changes whenever results may change; part of the cache key.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The version.</returns>
    ValueTask<string> GetVersionAsync(CancellationToken cancellationToken = default);

    /// <summary>Transcribes a 16 kHz mono 16-bit PCM WAV file.</summary>
    /// <param name="wavPath">The WAV file.</param>
    /// <param name="durationSeconds">Length of the audio, for progress.</param>
    /// <param name="options">The options.</param>
    /// <param name="progress">Receives the fraction done, 0–1.</param>
    /// <param name="cancellationToken">Cancels recognition.</param>
    /// <returns>The transcript.</returns>
    Task<TranscriptResult> TranscribeAsync(string wavPath, double durationSeconds, TranscribeOptions options, IProgress<double>? progress = null, CancellationToken cancellationToken = default);
}
