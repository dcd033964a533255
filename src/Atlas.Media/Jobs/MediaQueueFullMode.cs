namespace Atlas.Media.Jobs;

/// <summary>What <see cref="MediaPipeline.SubmitAsync"/> does when the job queue is full.</summary>
public enum MediaQueueFullMode
{
    /// <summary>Wait for room (backpressure), honouring the caller's cancellation token.</summary>
    Wait,

    /// <summary>Fail at once with <see cref="MediaErrorCode.QueueFull"/>.</summary>
    Reject,
}
