namespace Atlas.Media;

/// <summary>
/// A submitted media job: its state, its latest progress, and its typed result. Cancel it with <see cref="Cancel"/>;
/// <see cref="Completion"/> then ends as cancelled and any external program it runs is killed.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source has no timer or links; it is never disposed so Cancel stays safe after completion.")]
public sealed class MediaJob
{
    private readonly TaskCompletionSource<MediaResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _cancellation = new();
    private readonly IProgress<MediaProgress>? _observer;
    private MediaProgress _progress;
    private int _status;

    internal MediaJob(string id, MediaTask task, IProgress<MediaProgress>? observer)
    {
        Id = id;
        Task = task;
        _observer = observer;
        _progress = new MediaProgress { JobId = id, Status = MediaJobStatus.Queued, Stage = "queued" };
    }

    /// <summary>The job's id (unique, URL-safe).</summary>
    public string Id { get; }

    /// <summary>The task.</summary>
    public MediaTask Task { get; }

    /// <summary>The span that submitted the job, which the job's own span links to.</summary>
    internal System.Diagnostics.ActivityContext? Trigger { get; set; }

    /// <summary>The job's state.</summary>
    public MediaJobStatus Status => (MediaJobStatus)Volatile.Read(ref _status);

    /// <summary>The latest progress report.</summary>
    public MediaProgress Progress => Volatile.Read(ref _progress);

    /// <summary>Completes with the result, faults with a <see cref="MediaException"/>, or is cancelled.</summary>
    public Task<MediaResult> Completion => _completion.Task;

    internal CancellationToken CancellationToken => _cancellation.Token;

    internal string? WorkDirectory { get; set; }

    internal Func<CancellationToken, Task>? Work { get; set; }

    /// <summary>Cancels the job (a no-op once it has finished).</summary>
    public void Cancel()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished.
        }

        if (Status == MediaJobStatus.Queued)
        {
            Finish(MediaJobStatus.Cancelled, null, null);
        }
    }

    internal void Report(string stage, double? fraction = null, string? message = null)
    {
        var progress = new MediaProgress { JobId = Id, Status = Status, Stage = stage, Fraction = fraction, Message = message };
        Volatile.Write(ref _progress, progress);
        _observer?.Report(progress);
    }

    internal bool TryStart()
    {
        if (Interlocked.CompareExchange(ref _status, (int)MediaJobStatus.Running, (int)MediaJobStatus.Queued) != (int)MediaJobStatus.Queued)
        {
            return false;
        }

        Report("running", 0);
        return true;
    }

    internal void Finish(MediaJobStatus status, MediaResult? result, Exception? error)
    {
        var previous = (MediaJobStatus)Volatile.Read(ref _status);
        if (previous is MediaJobStatus.Succeeded or MediaJobStatus.Failed or MediaJobStatus.Cancelled)
        {
            return;
        }

        Volatile.Write(ref _status, (int)status);
        switch (status)
        {
            case MediaJobStatus.Succeeded:
                Report("done", 1);
                _completion.TrySetResult(result!);
                break;
            case MediaJobStatus.Cancelled:
                Report("cancelled");
                _completion.TrySetCanceled(_cancellation.IsCancellationRequested ? _cancellation.Token : default);
                break;
            default:
                Report("failed", message: error?.Message);
                _completion.TrySetException(error!);
                break;
        }
    }
}
