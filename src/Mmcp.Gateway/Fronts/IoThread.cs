namespace Mmcp.Gateway.Fronts;

/// <summary>
/// Where code that may block or run long leaves a thread that others wait on. In <c>mmcp serve</c> socket
/// completions run on the runtime's socket event thread (see the CLI's <c>InlineSocketCompletions</c>), and what runs
/// there holds every socket of the process; a server's reading thread holds that server's answers the same way.
/// </summary>
internal static class IoThread
{
    /// <summary>Continues on a thread-pool thread when the caller runs on any other thread.</summary>
    /// <returns>A task that completes on the thread pool (at once when already there).</returns>
    public static async ValueTask LeaveAsync()
    {
        if (!Thread.CurrentThread.IsThreadPoolThread)
        {
            await Task.Yield();
        }
    }
}
