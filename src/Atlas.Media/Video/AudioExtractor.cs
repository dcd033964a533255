using Atlas.Media.Input;
using Atlas.Media.Processes;

namespace Atlas.Media.Video;

/// <summary>Decodes the first audio stream of a recording to 16 kHz mono 16-bit WAV, the speech recogniser's input.</summary>
internal sealed class AudioExtractor
{
    private readonly ToolRunner _runner;

    public AudioExtractor(ToolRunner runner)
    {
        _runner = runner;
    }

    public async Task ExtractSpeechWavAsync(string path, SniffedFormat format, RecordingInfo info, string outputPath, CancellationToken cancellationToken)
    {
        if (!info.Streams.Any(s => s.Type == "audio"))
        {
            throw new MediaException(MediaErrorCode.InvalidRequest, "The file has no audio track to transcribe.");
        }

        var args = new List<string> { "-nostdin", "-hide_banner", "-loglevel", "error" };
        args.AddRange(FfmpegSafety.InputArguments(format.Demuxer!, path));
        args.AddRange(["-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav", "-y", "file:" + outputPath]);
        await _runner.RunAsync(new ToolInvocation("ffmpeg", args), cancellationToken).ConfigureAwait(false);
    }
}
