namespace Mmcp.Client.Connectors;

/// <summary>The last lines a process wrote, bounded in count and line length, safe to add to from any thread.</summary>
internal sealed class LineRing
{
    private const int MaxLineLength = 2000;
    private readonly Queue<string> _lines;
    private readonly int _capacity;
    private readonly Lock _lock = new();

    public LineRing(int capacity)
    {
        _capacity = Math.Max(0, capacity);
        _lines = new Queue<string>(Math.Min(_capacity, 64));
    }

    public void Add(string line)
    {
        if (_capacity == 0)
        {
            return;
        }

        if (line.Length > MaxLineLength)
        {
            line = string.Concat(line.AsSpan(0, MaxLineLength), "…");
        }

        lock (_lock)
        {
            if (_lines.Count == _capacity)
            {
                _lines.Dequeue();
            }

            _lines.Enqueue(line);
        }
    }

    public IReadOnlyList<string> Snapshot()
    {
        lock (_lock)
        {
            return [.. _lines];
        }
    }
}
