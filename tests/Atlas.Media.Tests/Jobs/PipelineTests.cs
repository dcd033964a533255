using Atlas.Media.Jobs;
using Atlas.Media.Ocr;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Atlas.Media.Tests.Jobs;

[Trait("Speed", "slow")]
public sealed class PipelineTests(MediaFixture media)
{
    [Fact]
    public async Task Process_SameInputTwice_SecondAnswerComesFromCache()
    {
        await using var harness = new PipelineHarness();
        var first = await harness.RunAsync(MediaTask.Ocr, media.TextPng);
        await using var copy = File.OpenRead(media.TextPng);
        var second = await harness.Pipeline.ProcessAsync(new MediaRequest { Task = MediaTask.Ocr, Content = copy }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.ContentHash, second.ContentHash);
        Assert.Equal(first.Ocr!.Text, second.Ocr!.Text);
        Assert.Equal(first.Ocr.Words.Count, second.Ocr.Words.Count);
    }

    [Fact]
    public async Task Process_DifferentOptions_AreCachedSeparately()
    {
        await using var harness = new PipelineHarness();
        await harness.RunAsync(MediaTask.Ocr, media.TextPng);
        var other = await harness.RunAsync(MediaTask.Ocr, media.TextPng, r => r with { Ocr = new OcrOptions { Layout = OcrLayout.Block } });
        var bypass = await harness.RunAsync(MediaTask.Ocr, media.TextPng, r => r with { BypassCache = true });
        Assert.False(other.FromCache);
        Assert.False(bypass.FromCache);
    }

    [Fact]
    public async Task Cache_OverEntryLimit_EvictsLeastRecentlyUsed()
    {
        await using var harness = new PipelineHarness(o => o.CacheMaxEntries = 2);
        await harness.RunAsync(MediaTask.Analyze, media.TextPng);
        await harness.RunAsync(MediaTask.Analyze, media.QrPng);
        await harness.RunAsync(MediaTask.Analyze, media.TextPng); // touch: now QrPng is the oldest
        await harness.RunAsync(MediaTask.Analyze, media.SmallPng);
        var (entries, _) = await harness.Pipeline.Cache.GetStatsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, entries);
        Assert.True((await harness.RunAsync(MediaTask.Analyze, media.TextPng)).FromCache);
        Assert.False((await harness.RunAsync(MediaTask.Analyze, media.QrPng)).FromCache);
    }

    [Fact]
    public async Task Cache_AccessesInTheSameMillisecond_StillEvictTheLeastRecentlyUsed()
    {
        await using var harness = new PipelineHarness(o => o.CacheMaxEntries = 2, time: new StoppedClock());
        await harness.RunAsync(MediaTask.Analyze, media.TextPng);
        await harness.RunAsync(MediaTask.Analyze, media.QrPng);
        await harness.RunAsync(MediaTask.Analyze, media.TextPng); // touched last, at the same clock reading
        await harness.RunAsync(MediaTask.Analyze, media.SmallPng);
        Assert.True((await harness.RunAsync(MediaTask.Analyze, media.TextPng)).FromCache);
        Assert.False((await harness.RunAsync(MediaTask.Analyze, media.QrPng)).FromCache);
    }

    [Fact]
    public async Task Queue_ManyJobs_RunAtMostMaxConcurrencyAtOnce()
    {
        var gate = new GatedOcrEngine();
        await using var harness = new PipelineHarness(o => o.MaxConcurrency = 2, Engines(gate));
        var jobs = new List<MediaJob>();
        for (var i = 0; i < 5; i++)
        {
            jobs.Add(await harness.Pipeline.SubmitAsync(new MediaRequest { Task = MediaTask.Ocr, FilePath = media.TextPng, BypassCache = true, Ocr = new OcrOptions { Engine = "gate", Language = "x" + i } }, cancellationToken: TestContext.Current.CancellationToken));
        }

        await gate.WaitForRunningAsync(2);
        Assert.Equal(2, gate.Running);
        Assert.Equal(3, jobs.Count(j => j.Status == MediaJobStatus.Queued));
        gate.ReleaseAll();
        await Task.WhenAll(jobs.Select(j => j.Completion)).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        Assert.Equal(2, gate.MaxRunning);
        Assert.All(jobs, j => Assert.Equal(MediaJobStatus.Succeeded, j.Status));
    }

    [Fact]
    public async Task Submit_IdenticalRequestWhileFirstRuns_SharesOneComputation()
    {
        var gate = new GatedOcrEngine();
        await using var harness = new PipelineHarness(o => o.MaxConcurrency = 2, Engines(gate));
        var (first, second) = await SubmitTwiceAsync(harness, gate);
        gate.ReleaseAll();
        var results = await Task.WhenAll(first.Completion, second.Completion).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        Assert.Equal(1, gate.Calls);
        Assert.Equal(results[0].Ocr!.Text, results[1].Ocr!.Text);
    }

    [Fact]
    public async Task Submit_IdenticalRequestWhoseLeaderIsCancelled_RunsItself()
    {
        var gate = new GatedOcrEngine();
        await using var harness = new PipelineHarness(o => o.MaxConcurrency = 2, Engines(gate));
        var (first, second) = await SubmitTwiceAsync(harness, gate);
        first.Cancel();
        await gate.WaitForCallsAsync(2);
        gate.ReleaseAll();
        var result = await second.Completion.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        Assert.Equal("ok", result.Ocr!.Text);
        Assert.Equal(MediaJobStatus.Cancelled, first.Status);
    }

    [Fact]
    public async Task Queue_FullInRejectMode_RefusesWithQueueFull()
    {
        var gate = new GatedOcrEngine();
        await using var harness = new PipelineHarness(o => { o.MaxConcurrency = 1; o.QueueCapacity = 1; o.QueueFullMode = MediaQueueFullMode.Reject; }, Engines(gate));
        MediaRequest Request(int i) => new() { Task = MediaTask.Ocr, FilePath = media.TextPng, BypassCache = true, Ocr = new OcrOptions { Engine = "gate", Language = "q" + i } };
        var running = await harness.Pipeline.SubmitAsync(Request(0), cancellationToken: TestContext.Current.CancellationToken);
        await gate.WaitForRunningAsync(1);
        var queued = await harness.Pipeline.SubmitAsync(Request(1), cancellationToken: TestContext.Current.CancellationToken);
        var ex = await Assert.ThrowsAsync<MediaException>(() => harness.Pipeline.SubmitAsync(Request(2), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(MediaErrorCode.QueueFull, ex.Code);
        gate.ReleaseAll();
        await Task.WhenAll(running.Completion, queued.Completion).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
    }

    /// <summary>Regression: 20 inputs were staged with a queue of 2; now a submission waits for room before it reads a byte.</summary>
    [Fact]
    [Trait("Issue11", "5")]
    public async Task Submit_QueueFull_WaitsForAdmissionBeforeReadingTheInput()
    {
        var gate = new GatedOcrEngine();
        await using var harness = new PipelineHarness(o => { o.MaxConcurrency = 1; o.QueueCapacity = 1; }, Engines(gate));
        MediaRequest Request(int i) => new() { Task = MediaTask.Ocr, FilePath = media.TextPng, BypassCache = true, Ocr = new OcrOptions { Engine = "gate", Language = "a" + i } };
        var running = await harness.Pipeline.SubmitAsync(Request(0), cancellationToken: TestContext.Current.CancellationToken);
        await gate.WaitForRunningAsync(1);
        var queued = await harness.Pipeline.SubmitAsync(Request(1), cancellationToken: TestContext.Current.CancellationToken);

        var content = new CountingStream(await File.ReadAllBytesAsync(media.TextPng, TestContext.Current.CancellationToken));
        var third = harness.Pipeline.SubmitAsync(new MediaRequest { Task = MediaTask.Ocr, Content = content, BypassCache = true, Ocr = new OcrOptions { Engine = "gate", Language = "a2" } }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(SpinWait.SpinUntil(() => harness.Pipeline.WaitingForAdmission == 1, TestTimeouts.Default), "the third submission waits for admission");
        Assert.Equal(0, content.Reads);
        Assert.Equal(2, Directory.GetDirectories(harness.Options.WorkDirectory!).Length);

        gate.ReleaseAll();
        var last = await third.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        await Task.WhenAll(running.Completion, queued.Completion, last.Completion).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        Assert.True(content.Reads > 0);
    }

    [Fact]
    public async Task Cancel_QueuedAndRunningJobs_EndAsCancelled()
    {
        var gate = new GatedOcrEngine();
        await using var harness = new PipelineHarness(o => o.MaxConcurrency = 1, Engines(gate));
        MediaRequest Request(int i) => new() { Task = MediaTask.Ocr, FilePath = media.TextPng, BypassCache = true, Ocr = new OcrOptions { Engine = "gate", Language = "c" + i } };
        var running = await harness.Pipeline.SubmitAsync(Request(0), cancellationToken: TestContext.Current.CancellationToken);
        await gate.WaitForRunningAsync(1);
        var queued = await harness.Pipeline.SubmitAsync(Request(1), cancellationToken: TestContext.Current.CancellationToken);
        queued.Cancel();
        running.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.Completion.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.Completion);
        Assert.Equal(MediaJobStatus.Cancelled, running.Status);
        Assert.Equal(MediaJobStatus.Cancelled, queued.Status);
        Assert.True(gate.ObservedCancellation);
    }

    [Fact]
    public async Task Cancel_RunningExternalTool_KillsItPromptly()
    {
        await using var harness = new PipelineHarness();
        var started = new TaskCompletionSource();
        var job = await harness.Pipeline.SubmitAsync(MediaRequest.ForFile(MediaTask.Transcribe, media.SpeechWav),
            new CallbackProgress(p => { if (p.Stage == "transcribing") started.TrySetResult(); }), TestContext.Current.CancellationToken);
        await started.Task.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        job.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job.Completion.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Tool_ExceedingTimeout_FailsWithToolTimeout()
    {
        await using var harness = new PipelineHarness(o => o.ToolTimeout = TimeSpan.FromMilliseconds(50));
        var ex = await Assert.ThrowsAsync<MediaException>(() => harness.RunAsync(MediaTask.Transcribe, media.SpeechWav));
        Assert.Equal(MediaErrorCode.ToolTimeout, ex.Code);
    }

    [Fact]
    public async Task Tool_ExceedingMemoryLimit_FailsWithToolMemoryLimit()
    {
        await using var harness = new PipelineHarness(o => o.ToolMemoryLimitBytes = 16 * 1024 * 1024);
        var ex = await Assert.ThrowsAsync<MediaException>(() => harness.RunAsync(MediaTask.Transcribe, media.SpeechWav));
        Assert.Equal(MediaErrorCode.ToolMemoryLimit, ex.Code);
        Assert.Contains("16 MiB", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Progress_IsReportedFromQueuedToDone()
    {
        await using var harness = new PipelineHarness();
        var reports = new List<MediaProgress>();
        var result = await harness.Pipeline.ProcessAsync(MediaRequest.ForFile(MediaTask.Ocr, media.SmallPng), new CallbackProgress(p => { lock (reports) { reports.Add(p); } }), TestContext.Current.CancellationToken);
        Assert.NotNull(result.Ocr);
        Assert.Equal("queued", reports[0].Stage);
        Assert.Contains(reports, r => r.Stage == "ocr");
        Assert.Equal(MediaJobStatus.Succeeded, reports[^1].Status);
        Assert.Equal(1.0, reports[^1].Fraction);
    }

    [Fact]
    public async Task Models_NotInstalled_ScenesFailNamingTheFetchScriptAndAutoFallsBack()
    {
        var empty = Path.Combine(Path.GetTempPath(), "atlas-media-nomodels-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(empty);
        await using var harness = new PipelineHarness(o => o.ModelsDirectory = empty);
        var ex = await Assert.ThrowsAsync<MediaException>(() => harness.RunAsync(MediaTask.Ocr, media.TextPng, r => r with { Ocr = new OcrOptions { Engine = "ppocr" } }));
        Assert.Equal(MediaErrorCode.ModelMissing, ex.Code);
        Assert.Contains("eng/fetch-models.sh", ex.Message, StringComparison.Ordinal);
        var auto = await harness.RunAsync(MediaTask.Ocr, media.TextPng);
        Assert.Equal("tesseract", auto.Ocr!.Engine);
        var analysis = await harness.RunAsync(MediaTask.Analyze, media.TextPng);
        Assert.Null(analysis.Image!.Faces);
        Directory.Delete(empty);
    }

    [Fact]
    public void AddAtlasMedia_InvalidOptions_FailAtStartupWithFixHint()
    {
        var services = new ServiceCollection().AddAtlasMedia(o => { o.MaxConcurrency = 0; o.CacheDirectory = "relative/dir"; });
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AtlasMediaOptions>>().Value);
        Assert.Contains("MaxConcurrency", ex.Message, StringComparison.Ordinal);
        Assert.Contains("CacheDirectory must be an absolute path", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddAtlasMedia_ResolvesAWorkingPipeline()
    {
        var root = Path.Combine(Path.GetTempPath(), "atlas-media-di-" + Guid.NewGuid().ToString("N")[..8]);
        var services = new ServiceCollection().AddAtlasMedia(o => { o.CacheDirectory = Path.Combine(root, "c"); o.WorkDirectory = Path.Combine(root, "w"); });
        await using var provider = services.BuildServiceProvider();
        var pipeline = provider.GetRequiredService<MediaPipeline>();
        var result = await pipeline.ProcessAsync(MediaRequest.ForFile(MediaTask.Analyze, media.QrPng), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(media.QrPayload, Assert.Single(result.Image!.Codes).Text);
        Directory.Delete(root, recursive: true);
    }

    /// <summary>Submits the same request twice, the second while the first is running in the gated engine.</summary>
    private async Task<(MediaJob First, MediaJob Second)> SubmitTwiceAsync(PipelineHarness harness, GatedOcrEngine gate)
    {
        MediaRequest Request() => new() { Task = MediaTask.Ocr, FilePath = media.TextPng, Ocr = new OcrOptions { Engine = "gate" } };
        var first = await harness.Pipeline.SubmitAsync(Request(), cancellationToken: TestContext.Current.CancellationToken);
        await gate.WaitForRunningAsync(1);
        var second = await harness.Pipeline.SubmitAsync(Request(), cancellationToken: TestContext.Current.CancellationToken);
        return (first, second);
    }

    private static MediaEngines Engines(IOcrEngine ocr)
    {
        var defaults = MediaPipeline.CreateDefaultEngines(new AtlasMediaOptions(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        return defaults with { Ocr = [ocr, .. defaults.Ocr] };
    }

    private sealed class CountingStream(byte[] bytes) : MemoryStream(bytes, writable: false)
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public override int Read(byte[] buffer, int offset, int count)
        {
            Interlocked.Increment(ref _reads);
            return base.Read(buffer, offset, count);
        }

        public override int Read(Span<byte> buffer)
        {
            Interlocked.Increment(ref _reads);
            return base.Read(buffer);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _reads);
            return base.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            return base.ReadAsync(buffer, offset, count, cancellationToken);
        }
    }

    private sealed class CallbackProgress(Action<MediaProgress> callback) : IProgress<MediaProgress>
    {
        public void Report(MediaProgress value) => callback(value);
    }

    /// <summary>An OCR engine that blocks until released, to observe queueing and cancellation deterministically.</summary>
    private sealed class GatedOcrEngine : IOcrEngine
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _lock = new();
        private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
        private int _running;
        private int _calls;

        public string Name => "gate";

        public int Calls => Volatile.Read(ref _calls);

        public int Running => Volatile.Read(ref _running);

        public int MaxRunning { get; private set; }

        public bool ObservedCancellation { get; private set; }

        public ValueTask<string> GetVersionAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult("gate-1");

        public async Task<OcrResult> RecognizeAsync(string imagePath, OcrOptions options, CancellationToken cancellationToken = default)
        {
            lock (_lock)
            {
                _running++;
                _calls++;
                MaxRunning = Math.Max(MaxRunning, _running);
                foreach (var w in _waiters.Where(w => w.Count > 0 ? _running >= w.Count : _calls >= -w.Count))
                {
                    w.Signal.TrySetResult();
                }
            }

            try
            {
                await _release.Task.WaitAsync(cancellationToken);
                return new OcrResult { Engine = Name, Text = "ok" };
            }
            catch (OperationCanceledException)
            {
                ObservedCancellation = true;
                throw;
            }
            finally
            {
                lock (_lock)
                {
                    _running--;
                }
            }
        }

        public Task WaitForRunningAsync(int count)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                if (_running >= count)
                {
                    return Task.CompletedTask;
                }

                _waiters.Add((count, signal));
            }

            return signal.Task.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        }

        /// <summary>Waits until the engine has been called <paramref name="count"/> times in all.</summary>
        public Task WaitForCallsAsync(int count)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                if (_calls >= count)
                {
                    return Task.CompletedTask;
                }

                _waiters.Add((-count, signal));
            }

            return signal.Task.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        }

        public void ReleaseAll() => _release.TrySetResult();
    }
}
