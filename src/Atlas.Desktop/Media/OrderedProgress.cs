namespace Atlas.Desktop.Media;

/// <summary>
/// Progress reported inline, in order, and never after <see cref="Close"/>. <see cref="Progress{T}"/> posts each report
/// to the thread pool, so a report could overtake an earlier one or reach a phone after the final answer.
/// </summary>
/// <typeparam name="T">The progress value.</typeparam>
internal sealed class OrderedProgress<T>(Action<T> handler) : IProgress<T>
{
    private readonly Lock _gate = new();
    private bool _closed;

    public void Report(T value)
    {
        lock (_gate)
        {
            if (!_closed)
            {
                handler(value);
            }
        }
    }

    /// <summary>Stops reporting; returns after a report that is being handled has finished.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
        }
    }
}
