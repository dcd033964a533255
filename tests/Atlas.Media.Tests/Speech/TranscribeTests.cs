using Atlas.Media.Speech;

namespace Atlas.Media.Tests.Speech;

[Trait("Speed", "slow")]
public sealed class TranscribeTests(MediaFixture media) : IAsyncLifetime
{
    private readonly PipelineHarness _harness = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Transcribe_SynthesizedSpeech_HasLowWordErrorRateAndOrderedTimestamps()
    {
        var result = await _harness.RunAsync(MediaTask.Transcribe, media.SpeechWav);
        var transcript = result.Transcript!;
        var wer = Tools.Wer(string.Join(' ', MediaFixture.SpokenSentences), transcript.Text);
        Assert.True(wer < 0.15, $"WER {wer:P1}: {transcript.Text}");
        Assert.Equal(MediaKind.Audio, result.Kind);
        Assert.NotEmpty(transcript.Segments);
        for (var i = 1; i < transcript.Words.Count; i++)
        {
            Assert.True(transcript.Words[i].Start >= transcript.Words[i - 1].Start);
            Assert.True(transcript.Words[i].End >= transcript.Words[i].Start);
        }

        Assert.InRange(transcript.Words[^1].End, 3, transcript.DurationSeconds + 0.5);
    }

    [Fact]
    public async Task Transcribe_VideoAudioTrack_IsTranscribed()
    {
        var progress = new List<MediaProgress>();
        var result = await _harness.Pipeline.ProcessAsync(MediaRequest.ForFile(MediaTask.Transcribe, media.VideoMp4), new SyncProgress(progress), TestContext.Current.CancellationToken);
        Assert.Contains("milk", result.Transcript!.Text, StringComparison.Ordinal);
        Assert.Equal(MediaKind.Video, result.Kind);
        Assert.Contains(progress, p => p.Stage == "transcribing");
        Assert.Equal("done", progress[^1].Stage);
    }

    [Fact]
    public async Task Transcribe_UnsupportedLanguage_IsInvalid()
    {
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Transcribe, media.SpeechWav, r => r with { Transcribe = new TranscribeOptions { Language = "de" } }));
        Assert.Equal(MediaErrorCode.InvalidRequest, ex.Code);
    }

    [Fact]
    public async Task Transcribe_Image_IsInvalid()
    {
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Transcribe, media.TextPng));
        Assert.Equal(MediaErrorCode.InvalidRequest, ex.Code);
    }
}

internal sealed class SyncProgress(List<MediaProgress> sink) : IProgress<MediaProgress>
{
    public void Report(MediaProgress value)
    {
        lock (sink)
        {
            sink.Add(value);
        }
    }
}
