using Atlas.Media.Video;

namespace Atlas.Media.Tests.Video;

[Trait("Speed", "slow")]
public sealed class FramesTests(MediaFixture media) : IAsyncLifetime
{
    private readonly PipelineHarness _harness = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Frames_Scenes_FindsEachCutWithItsTimestampAndText()
    {
        var result = await _harness.RunAsync(MediaTask.Frames, media.VideoMp4, r => r with { Frames = new FramesOptions { Ocr = true } });
        var frames = result.Frames!.Frames;
        Assert.Equal(3, frames.Count);
        Assert.Equal([0.0, 2.0, 4.0], frames.Select(f => Math.Round(f.Seconds, 1)));
        for (var i = 0; i < 3; i++)
        {
            Assert.Contains(MediaFixture.SceneWords[i], frames[i].Ocr!.Text, StringComparison.Ordinal);
            Assert.Equal((640, 360), (frames[i].Width, frames[i].Height));
            Assert.True(File.Exists(result.GetArtifactPath(frames[i].FileName)));
        }
    }

    [Fact]
    public async Task Frames_Interval_TakesOneFrameEveryInterval()
    {
        var result = await _harness.RunAsync(MediaTask.Frames, media.VideoMp4, r => r with { Frames = new FramesOptions { Mode = FrameSelection.Interval, IntervalSeconds = 1.5, MaxWidth = 320 } });
        var frames = result.Frames!.Frames;
        Assert.InRange(frames.Count, 4, 5);
        Assert.Equal(1.5, frames[1].Seconds - frames[0].Seconds, 1);
        Assert.Equal(320, frames[0].Width);
    }

    [Fact]
    public async Task Frames_KeyFrames_StartsAtZeroAndStaysInsideTheVideo()
    {
        var result = await _harness.RunAsync(MediaTask.Frames, media.VideoMp4, r => r with { Frames = new FramesOptions { Mode = FrameSelection.KeyFrames } });
        var frames = result.Frames!.Frames;
        Assert.NotEmpty(frames);
        Assert.Equal(0, frames[0].Seconds);
        Assert.All(frames, f => Assert.InRange(f.Seconds, 0, result.Frames.DurationSeconds));
    }

    [Fact]
    public async Task Frames_OnAudio_IsInvalid()
    {
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Frames, media.SpeechWav));
        Assert.Equal(MediaErrorCode.InvalidRequest, ex.Code);
    }

    [Fact]
    public async Task Frames_CachedResult_KeepsItsFrameFiles()
    {
        var first = await _harness.RunAsync(MediaTask.Frames, media.VideoMp4, r => r with { Frames = new FramesOptions { MaxFrames = 2 } });
        var second = await _harness.RunAsync(MediaTask.Frames, media.VideoMp4, r => r with { Frames = new FramesOptions { MaxFrames = 2 } });
        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(2, second.Frames!.Frames.Count);
        Assert.All(second.Frames.Frames, f => Assert.True(File.Exists(second.GetArtifactPath(f.FileName))));
    }
}
