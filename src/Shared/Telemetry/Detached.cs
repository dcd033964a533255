using System.Diagnostics;

namespace Shared.Telemetry;

/// <summary>
/// Starts work that outlives the request that happened to trigger it (a connection and its message loop, a watcher, a
/// timer, a background queue) without the caller's <see cref="ExecutionContext"/>: no <see cref="Activity.Current"/>
/// (so the work's spans never join the first request's trace), no other async-local state. The caller's span is
/// handed over as a context to link to, as OpenTelemetry recommends for work that is caused by a span but not part of it.
/// </summary>
internal static class Detached
{
    /// <summary>Runs <paramref name="work"/> on the thread pool outside the caller's context; it gets the caller's span
    /// (if any) to link to.</summary>
    public static Task<T> Run<T>(Func<ActivityContext?, Task<T>> work)
    {
        var trigger = Activity.Current?.Context;
        if (ExecutionContext.IsFlowSuppressed())
        {
            return Task.Run(() => work(trigger));
        }

        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(() => work(trigger));
        }
    }

    /// <summary>Runs <paramref name="work"/> on the thread pool outside the caller's context.</summary>
    public static Task Run(Func<Task> work) => Run<bool>(async _ =>
    {
        await work().ConfigureAwait(false);
        return true;
    });

    /// <summary>Calls <paramref name="start"/> (which creates timers, watchers or tasks that capture the context) with
    /// the caller's context not flowing into what it creates.</summary>
    public static T Start<T>(Func<T> start)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return start();
        }

        using (ExecutionContext.SuppressFlow())
        {
            return start();
        }
    }

    /// <summary>Calls <paramref name="start"/> with the caller's context not flowing into what it creates.</summary>
    public static void Start(Action start) => Start(() =>
    {
        start();
        return true;
    });

    /// <summary>The links for a span of detached work: to the span that triggered it, or none.</summary>
    public static ActivityLink[]? LinkTo(ActivityContext? trigger) => trigger is { } context ? [new ActivityLink(context)] : null;
}
