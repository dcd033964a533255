using System.Diagnostics;
using System.Text;

namespace Mmcp.Client.Connectors;

/// <summary>
/// A stdio server process the hub owns: MCP on its standard input and output, standard error kept in a bounded ring,
/// and the MCP stdio shutdown sequence on disposal (close standard input, wait, SIGTERM, wait, kill).
/// </summary>
/// <remarks>
/// The SDK's own stdio transport (2.3.1) does not close the child's standard input before waiting for it to exit, so
/// every disposal waited the whole shutdown timeout and then killed the server; owning the process fixes that and
/// gives the hub the process id and exit code.
/// </remarks>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan TermGrace = TimeSpan.FromSeconds(1);

    // How long an exit waits for the end of standard error: a grandchild that inherited it may keep it open.
    private static readonly TimeSpan StandardErrorDrain = TimeSpan.FromSeconds(1);
    private readonly Process _process;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _standardErrorEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private ChildProcess(Process process, LineRing standardError)
    {
        _process = process;
        StandardError = standardError;
    }

    public int Id { get; private set; }

    public LineRing StandardError { get; }

    /// <summary>Gets a task that completes with the exit code when the process has exited and its standard error has
    /// ended (or <see cref="StandardErrorDrain"/> after the exit), so the ring holds the last lines the process wrote:
    /// the crash report quotes them.</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>Gets the stream the hub writes requests to (the child's standard input).</summary>
    public Stream Input => _process.StandardInput.BaseStream;

    /// <summary>Gets the stream the hub reads responses from (the child's standard output).</summary>
    public Stream Output => _process.StandardOutput.BaseStream;

    public static ChildProcess Start(string executable, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, string? workingDirectory, LineRing standardError)
    {
        var start = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            CreateNoWindow = true,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };

        if (OperatingSystem.IsWindows() && (executable.EndsWith(".cmd", StringComparison.OrdinalIgnoreCase) || executable.EndsWith(".bat", StringComparison.OrdinalIgnoreCase)))
        {
            start.FileName = "cmd.exe";
            start.ArgumentList.Add("/c");
            start.ArgumentList.Add(executable);
        }
        else
        {
            start.FileName = executable;
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(process, standardError);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                standardError.Add(line);
            }
            else
            {
                child._standardErrorEnded.TrySetResult();
            }
        };
        process.Exited += (_, _) => child.OnExited();
        process.Start();
        child.Id = process.Id;
        process.BeginErrorReadLine();
        if (process.HasExited)
        {
            child.OnExited();
        }

        return child;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_exited.Task.IsCompleted)
            {
                // MCP stdio shutdown: close standard input, give the server time to exit, then SIGTERM, then kill.
                try
                {
                    _process.StandardInput.Close();
                }
                catch (IOException)
                {
                }

                if (!await WaitAsync(ExitGrace).ConfigureAwait(false))
                {
                    // What the server started goes too (a shell wrapper's `node`, npx's child): listed before the
                    // SIGTERM, because once their parent is gone they belong to init and no tree leads to them.
                    var tree = OperatingSystem.IsLinux() ? ProcessTree.Descendants(Id) : [];
                    if (!OperatingSystem.IsWindows())
                    {
                        _ = ProcessTree.Signal(Id, ProcessTree.SigTerm);
                        foreach (var descendant in tree)
                        {
                            _ = ProcessTree.Signal(descendant.Pid, ProcessTree.SigTerm);
                        }
                    }

                    if (!await WaitAsync(TermGrace).ConfigureAwait(false))
                    {
                        _process.Kill(entireProcessTree: true);
                        await WaitAsync(TermGrace).ConfigureAwait(false);
                    }

                    await ProcessTree.KillSurvivorsAsync(tree, TermGrace).ConfigureAwait(false);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // the process is gone
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task<bool> WaitAsync(TimeSpan timeout)
    {
        try
        {
            await _exited.Task.WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private void OnExited()
    {
        int code;
        try
        {
            code = _process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return;
        }

        _ = CompleteExitAsync(code);
    }

    private async Task CompleteExitAsync(int code)
    {
        try
        {
            await _standardErrorEnded.Task.WaitAsync(StandardErrorDrain, TimeProvider.System).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A grandchild holds standard error open: report the exit with what has been read.
        }

        _exited.TrySetResult(code);
    }

}
