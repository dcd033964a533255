namespace Atlas.Connect;

/// <summary>Ctrl+C for a chat: the first press runs the registered action (cancel the answer being generated), the
/// next one — or the first when nothing is registered — cancels <see cref="Token"/> so the program exits.</summary>
internal sealed class CtrlC : IDisposable
{
    private static int _pressed;
    private readonly CancellationTokenSource _quit = new();
    private Action? _first;

    public CtrlC()
    {
        Console.CancelKeyPress += OnCancelKeyPress;
    }

    /// <summary>Whether Ctrl+C was pressed in this process.</summary>
    public static bool Pressed => Volatile.Read(ref _pressed) != 0;

    /// <summary>Cancelled when the user wants to quit.</summary>
    public CancellationToken Token => _quit.Token;

    /// <summary>Runs <paramref name="action"/> on the next press instead of quitting, until the returned handle is disposed.</summary>
    public IDisposable OnFirst(Action action)
    {
        Volatile.Write(ref _first, action);
        return new Registration(this, action);
    }

    /// <summary>Quits as if Ctrl+C had been pressed twice.</summary>
    public void Quit() => _quit.Cancel();

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        Interlocked.Exchange(ref _pressed, 1);
        var first = Interlocked.Exchange(ref _first, null);
        if (first is not null)
        {
            first();
        }
        else
        {
            _quit.Cancel();
        }
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        _quit.Dispose();
    }

    private sealed class Registration(CtrlC owner, Action action) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._first, null, action);
    }
}
