using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Atlas.Media.Analysis;
using Atlas.Media.Caching;
using Atlas.Media.Description;
using Atlas.Media.Diagnostics;
using Atlas.Media.Input;
using Atlas.Media.Jobs;
using Atlas.Media.Models;
using Atlas.Media.Ocr;
using Atlas.Media.Processes;
using Atlas.Media.Speech;
using Atlas.Media.Video;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atlas.Media;

/// <summary>
/// The media pipeline: validates and stages an input, answers from the cache when it can, and otherwise queues a job
/// on a bounded queue served by <see cref="AtlasMediaOptions.MaxConcurrency"/> workers. Register it with
/// <c>services.AddAtlasMedia()</c>, or build one with <see cref="Create"/>.
/// </summary>
public sealed class MediaPipeline : IAsyncDisposable
{
    private readonly AtlasMediaOptions _options;
    private readonly MediaProcessor _processor;
    private readonly ResultCache _cache;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<MediaJob> _queue;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task[] _workers;
    private readonly string _workRoot;
    private readonly IDisposable[] _owned;
    private readonly ConcurrentDictionary<string, MediaJob> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Jobs waiting or running per requester (<see cref="AtlasMediaOptions.MaxJobsPerRequester"/>).</summary>
    private readonly Dictionary<string, int> _byRequester = new(StringComparer.Ordinal);

    // Admission comes before staging: every job holds a slot from before its input is copied until it ends, so at most
    // QueueCapacity + MaxConcurrency staged copies exist at once (the queue limit bounds disk use, not just waiting).
    private readonly SemaphoreSlim _admission;
    private int _waitingForAdmission;

    internal MediaPipeline(AtlasMediaOptions options, MediaEngines engines, Func<IChatClient?> chatClient, ILoggerFactory loggerFactory, TimeProvider time, bool ownsEngines = false)
    {
        _options = options;
        _time = time;
        _logger = loggerFactory.CreateLogger<MediaPipeline>();
        var runner = new ToolRunner(options, loggerFactory.CreateLogger<ToolRunner>());
        Runner = runner;
        _processor = new MediaProcessor(
            options, runner, new ImageLoader(options), new MediaProbe(runner, options), new FrameExtractor(runner),
            new AudioExtractor(runner), engines, new ImageDescriber(chatClient, options), time);
        _cache = new ResultCache(options, time, loggerFactory.CreateLogger<ResultCache>());
        _workRoot = options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), "atlas-media-" + Environment.UserName);
        CreatePrivateDirectory(_workRoot);
        _owned = ownsEngines ? [.. engines.Ocr.OfType<IDisposable>(), .. new object[] { engines.Faces, engines.Transcriber, engines.Codes }.OfType<IDisposable>()] : [];
        _admission = new SemaphoreSlim(options.QueueCapacity + options.MaxConcurrency);

        // Unbounded because admission already bounds it: a job is admitted before it is staged.
        _queue = Channel.CreateUnbounded<MediaJob>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
        // The workers outlive whoever built the pipeline (maybe inside a request): they run outside its context and trace.
        _workers = Enumerable.Range(0, options.MaxConcurrency).Select(_ => global::Shared.Telemetry.Detached.Run(WorkAsync)).ToArray();
        Log.PipelineStarted(_logger, options.MaxConcurrency, options.QueueCapacity, _cache.Directory);
    }

    internal ToolRunner Runner { get; }

    internal ResultCache Cache => _cache;

    /// <summary>Submissions waiting for room before their input is staged (tests observe admission with it).</summary>
    internal int WaitingForAdmission => Volatile.Read(ref _waitingForAdmission);

    /// <summary>Jobs waiting for a worker.</summary>
    public int QueuedJobs => _queue.Reader.Count;

    /// <summary>
    /// Builds a pipeline with the standard engines (tesseract, PP-OCRv4, pocketsphinx, zbar, BlazeFace) outside DI.
    /// </summary>
    /// <param name="options">Options; validated here.</param>
    /// <param name="chatClient">The vision-capable chat client for the describe task, if any.</param>
    /// <param name="loggerFactory">Logging, if any.</param>
    /// <param name="timeProvider">Time source; <see cref="TimeProvider.System"/> by default.</param>
    /// <returns>The running pipeline; dispose it to stop its workers.</returns>
    public static MediaPipeline Create(AtlasMediaOptions options, IChatClient? chatClient = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var validation = new AtlasMediaOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        loggerFactory ??= NullLoggerFactory.Instance;
        return new MediaPipeline(options, CreateDefaultEngines(options, loggerFactory), () => chatClient, loggerFactory, timeProvider ?? TimeProvider.System, ownsEngines: true);
    }

    internal static MediaEngines CreateDefaultEngines(AtlasMediaOptions options, ILoggerFactory loggerFactory)
    {
        var runner = new ToolRunner(options, loggerFactory.CreateLogger<ToolRunner>());
        var models = new ModelLocator(options);
        return new MediaEngines([new TesseractOcrEngine(runner), new PaddleOcrEngine(models)], new PocketSphinxTranscriber(runner), new BlazeFaceDetector(models), new ZbarBarcodeReader(runner));
    }

    /// <summary>
    /// Validates and stages the input, then answers from the cache or queues a job. Input errors (unsupported,
    /// unsafe, too large, truncated) throw <see cref="MediaException"/> here; processing errors fault the job.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="progress">Receives progress reports (called on worker threads).</param>
    /// <param name="cancellationToken">Cancels staging and waiting for queue room; cancel a queued job with <see cref="MediaJob.Cancel"/>.</param>
    /// <returns>The job; already completed when the result was cached.</returns>
    public async Task<MediaJob> SubmitAsync(MediaRequest request, IProgress<MediaProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        MediaProcessor.Validate(request, null);
        if (request.FilePath is { } path)
        {
            // From metadata only: a pipe, directory or oversized file is refused before a slot is taken or a byte copied.
            StagedInput.CheckRegularFile(path, _options.MaxInputBytes);
        }

        // Before the shared admission: a requester at its limit never waits for (or takes) a slot of the queue.
        var counted = TakeRequesterSlot(request.Requester);
        try
        {
            await AdmitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ReleaseRequesterSlot(counted);
            throw;
        }

        var job = new MediaJob(Guid.CreateVersion7().ToString("N"), request.Task, progress);
        job.Trigger = Activity.Current?.Context;
        _ = job.Completion.ContinueWith(_ =>
        {
            _admission.Release();
            ReleaseRequesterSlot(counted);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        MediaTelemetry.JobsSubmitted.Add(1, new KeyValuePair<string, object?>("task", request.Task.ToString()));
        var workDir = Path.Combine(_workRoot, job.Id);
        var enqueued = false;
        try
        {
            CreatePrivateDirectory(workDir);
            var input = await StagedInput.StageAsync(request, workDir, _options.MaxInputBytes, cancellationToken).ConfigureAwait(false);
            MediaProcessor.Validate(request, input.Format);
            Log.JobQueued(_logger, job.Id, request.Task, input.Format.Name, input.Length, input.Sha256);
            var key = await _processor.CacheKeyAsync(request, input, cancellationToken).ConfigureAwait(false);
            var askedBefore = request.Requester is not { } requester || await _cache.NoteRequesterAsync(key, requester, cancellationToken).ConfigureAwait(false);
            if (!request.BypassCache && await _cache.TryGetAsync(key, cancellationToken).ConfigureAwait(false) is { } cached)
            {
                MediaTelemetry.CacheHits.Add(1, new KeyValuePair<string, object?>("task", request.Task.ToString()));
                Log.CacheHit(_logger, job.Id, request.Task);
                job.TryStart();

                // Someone else's result: shared for speed, but answered as if computed now (see MediaRequest.Requester).
                job.Finish(MediaJobStatus.Succeeded, askedBefore ? cached : cached with { FromCache = false, CreatedAt = _time.GetUtcNow() }, null);
                return job;
            }

            MediaTelemetry.CacheMisses.Add(1, new KeyValuePair<string, object?>("task", request.Task.ToString()));
            job.WorkDirectory = workDir;
            job.Work = ct => RunJobAsync(job, request, input, key, workDir, ct);
            job.Report("queued", 0);
            if (!request.BypassCache && _inFlight.TryGetValue(key, out var leader) && !leader.Completion.IsCompleted)
            {
                // The same content, task, options and engines are being computed right now: share that result.
                enqueued = true;
                _ = FollowAsync(job, leader);
                return job;
            }

            await EnqueueAsync(job, cancellationToken).ConfigureAwait(false);
            enqueued = true;
            if (!request.BypassCache && _inFlight.TryAdd(key, job))
            {
                _ = job.Completion.ContinueWith(_ => _inFlight.TryRemove(new KeyValuePair<string, MediaJob>(key, job)), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            return job;
        }
        catch (ChannelClosedException ex)
        {
            throw new ObjectDisposedException("The media pipeline is shutting down.", ex);
        }
        catch (MediaException ex)
        {
            var error = Scrub(ex, workDir, StagedInput.DisplayName(request));
            Log.InputRefused(_logger, request.Task, error.Code.ToWire(), error.Message);
            throw error;
        }
        finally
        {
            if (!enqueued)
            {
                job.Cancel(); // never ran: ends the job, which gives its admission slot back
                DeleteDirectory(workDir);
            }
        }
    }

    /// <summary>Counts a job of <paramref name="requester"/>, or refuses it when the requester is at its limit.</summary>
    /// <returns>The requester counted (to release when the job ends), or null when nothing was counted.</returns>
    private string? TakeRequesterSlot(string? requester)
    {
        if (requester is null || _options.MaxJobsPerRequester == 0)
        {
            return null;
        }

        lock (_byRequester)
        {
            var count = _byRequester.GetValueOrDefault(requester);
            if (count >= _options.MaxJobsPerRequester)
            {
                throw new MediaException(MediaErrorCode.QueueFull, $"{count} media jobs of yours are already waiting or running (at most "
                    + $"{_options.MaxJobsPerRequester} at once, Atlas:Media:MaxJobsPerRequester); send this one again when one of them has finished.");
            }

            _byRequester[requester] = count + 1;
            return requester;
        }
    }

    private void ReleaseRequesterSlot(string? requester)
    {
        if (requester is null)
        {
            return;
        }

        lock (_byRequester)
        {
            if (_byRequester.TryGetValue(requester, out var count) && count > 1)
            {
                _byRequester[requester] = count - 1;
            }
            else
            {
                _byRequester.Remove(requester);
            }
        }
    }

    private async ValueTask AdmitAsync(CancellationToken cancellationToken)
    {
        if (_options.QueueFullMode == MediaQueueFullMode.Reject)
        {
            if (!_admission.Wait(0, CancellationToken.None))
            {
                throw new MediaException(MediaErrorCode.QueueFull, $"The media queue is full ({_options.QueueCapacity} jobs waiting); try again shortly.");
            }
        }
        else if (!_admission.Wait(0, CancellationToken.None))
        {
            Interlocked.Increment(ref _waitingForAdmission);
            try
            {
                await _admission.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waitingForAdmission);
            }
        }
    }

    private async ValueTask EnqueueAsync(MediaJob job, CancellationToken cancellationToken)
    {
        await _queue.Writer.WriteAsync(job, cancellationToken).ConfigureAwait(false);
        MediaTelemetry.QueueDepth.Add(1);
    }

    /// <summary>
    /// The same error with every path inside the job's private work directory replaced by the caller's name for the
    /// input (tools quote the file they were given): clients and phones never learn internal paths.
    /// </summary>
    internal MediaException Scrub(MediaException error, string workDir, string displayName)
    {
        var message = WorkPaths(_workRoot).Replace(error.Message, m =>
            m.Value.EndsWith("/input", StringComparison.Ordinal) || m.Value.Contains(workDir + "/input", StringComparison.Ordinal)
                ? displayName
                : "a temporary file");
        return ReferenceEquals(message, error.Message) || message == error.Message ? error : new MediaException(error.Code, message, error.InnerException);
    }

    private static System.Text.RegularExpressions.Regex WorkPaths(string workRoot) =>
        new("(?:file:)?" + System.Text.RegularExpressions.Regex.Escape(workRoot.TrimEnd('/')) + @"(?:/[^\s'"":,;()\[\]]*)?", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>Completes <paramref name="follower"/> with the result of an identical job already running; runs it itself if that one is cancelled.</summary>
    private async Task FollowAsync(MediaJob follower, MediaJob leader)
    {
        try
        {
            var result = await leader.Completion.WaitAsync(follower.CancellationToken).ConfigureAwait(false);
            follower.TryStart();
            follower.Finish(MediaJobStatus.Succeeded, result, null);
            DeleteDirectory(follower.WorkDirectory);
        }
        catch (OperationCanceledException) when (follower.CancellationToken.IsCancellationRequested)
        {
            DeleteDirectory(follower.WorkDirectory); // Cancel() already ended the job
        }
        catch (OperationCanceledException)
        {
            try
            {
                await EnqueueAsync(follower, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MediaException or ChannelClosedException)
            {
                follower.Finish(MediaJobStatus.Failed, null, ex as MediaException ?? new MediaException(MediaErrorCode.Cancelled, "The media pipeline is shutting down."));
                DeleteDirectory(follower.WorkDirectory);
            }
        }
        catch (Exception ex)
        {
            // Same input, options and engines: the leader's failure (corrupt file, missing tool) is this job's too.
            follower.TryStart();
            follower.Finish(MediaJobStatus.Failed, null, ex);
            DeleteDirectory(follower.WorkDirectory);
        }
    }

    /// <summary>Submits a request and waits for its result.</summary>
    /// <param name="request">The request.</param>
    /// <param name="progress">Receives progress reports.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <returns>The result.</returns>
    public async Task<MediaResult> ProcessAsync(MediaRequest request, IProgress<MediaProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var job = await SubmitAsync(request, progress, cancellationToken).ConfigureAwait(false);
        using var registration = cancellationToken.Register(job.Cancel);
        return await job.Completion.ConfigureAwait(false);
    }

    /// <summary>Stops accepting jobs, cancels running ones, and waits for the workers to end.</summary>
    /// <returns>A task that completes when the workers have stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _shutdown.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_workers).ConfigureAwait(false);
        while (_queue.Reader.TryRead(out var job))
        {
            job.Finish(MediaJobStatus.Cancelled, null, null);
            DeleteDirectory(job.WorkDirectory);
        }

        foreach (var d in _owned)
        {
            d.Dispose();
        }

        _shutdown.Dispose();
    }

    private async Task WorkAsync()
    {
        try
        {
            await foreach (var job in _queue.Reader.ReadAllAsync(_shutdown.Token).ConfigureAwait(false))
            {
                MediaTelemetry.QueueDepth.Add(-1);
                if (!job.TryStart())
                {
                    DeleteDirectory(job.WorkDirectory);
                    continue;
                }

                using var linked = CancellationTokenSource.CreateLinkedTokenSource(job.CancellationToken, _shutdown.Token);
                try
                {
                    await job.Work!(linked.Token).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // Loop boundary: RunJobAsync reports every failure through the job; this only guards the worker.
                    Log.JobCrashed(_logger, ex, job.Id, job.Task);
                    job.Finish(MediaJobStatus.Failed, null, ex);
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task RunJobAsync(MediaJob job, MediaRequest request, StagedInput input, string key, string workDir, CancellationToken cancellationToken)
    {
        // Queued work outlives the request that submitted it: a trace of its own, linked to the submitter's span.
        Activity.Current = null;
        using var activity = MediaTelemetry.ActivitySource.StartActivity(ActivityKind.Internal, default, links: global::Shared.Telemetry.Detached.LinkTo(job.Trigger), name: "media.job " + request.Task);
        activity?.SetTag("atlas.media.job_id", job.Id);
        activity?.SetTag("atlas.media.task", request.Task.ToString());
        var started = Stopwatch.GetTimestamp();
        var outcome = "succeeded";
        try
        {
            var artifacts = Path.Combine(workDir, "artifacts");
            var result = await _processor.RunAsync(input, request, job, workDir, artifacts, cancellationToken).ConfigureAwait(false);
            result = await _cache.StoreAsync(key, result, artifacts, CancellationToken.None).ConfigureAwait(false);
            job.Finish(MediaJobStatus.Succeeded, result, null);
            Log.JobSucceeded(_logger, job.Id, request.Task, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = "cancelled";
            job.Finish(MediaJobStatus.Cancelled, null, null);
            Log.JobCancelled(_logger, job.Id, request.Task);
        }
        catch (MediaException ex)
        {
            outcome = ex.Code.ToWire();
            var error = Scrub(ex, workDir, StagedInput.DisplayName(request));
            job.Finish(MediaJobStatus.Failed, null, error);
            LogFailure(job, request.Task, error, ex.Message);
        }
        catch (Exception ex) when (ex is OpenCvSharp.OpenCVException or ImageMagick.MagickException or InvalidDataException or MetadataExtractor.ImageProcessingException)
        {
            outcome = "corrupt_input";
            var error = new MediaException(MediaErrorCode.CorruptInput, "The file could not be decoded; it is corrupt or truncated.", ex);
            job.Finish(MediaJobStatus.Failed, null, error);
            LogFailure(job, request.Task, error, ex.Message);
        }
        finally
        {
            activity?.SetTag("atlas.media.outcome", outcome);
            MediaTelemetry.JobsCompleted.Add(1, new KeyValuePair<string, object?>("task", request.Task.ToString()), new KeyValuePair<string, object?>("outcome", outcome));
            MediaTelemetry.JobDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("task", request.Task.ToString()));
            DeleteDirectory(workDir);
        }
    }

    /// <summary>Bad input is an expected answer (information, one line); a tool or model failing is a warning.</summary>
    private void LogFailure(MediaJob job, MediaTask task, MediaException error, string detail)
    {
        if (error.Code.IsInputRefusal())
        {
            Log.JobRefused(_logger, job.Id, task, error.Code.ToWire(), error.Message);
        }
        else
        {
            Log.JobFailed(_logger, job.Id, task, error.Code.ToWire(), detail);
        }
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void DeleteDirectory(string? path)
    {
        try
        {
            if (path is not null && Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // Scratch space; the next start of the same work root does not depend on it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
