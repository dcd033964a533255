using System.Diagnostics;
using System.Globalization;
using System.Text;
using Atlas.Media.Diagnostics;
using CliWrap;
using Microsoft.Extensions.Logging;

namespace Atlas.Media.Processes;

/// <summary>
/// Runs external programs as separate processes, each with a wall-clock timeout (the process tree is killed) and an
/// address-space limit applied by <c>prlimit --as</c> before the program starts. OpenMP programs are held to one
/// thread (<c>OMP_THREAD_LIMIT=1</c>): parallelism comes from running jobs side by side, not from oversubscription.
/// </summary>
internal sealed class ToolRunner
{
    private const int StderrTailLines = 12;
    private readonly AtlasMediaOptions _options;
    private readonly ILogger _logger;
    private readonly string? _prlimit;

    public ToolRunner(AtlasMediaOptions options, ILogger<ToolRunner> logger)
    {
        _options = options;
        _logger = logger;
        _prlimit = ToolLocator.TryFind("prlimit");
        if (_prlimit is null)
        {
            Log.NoPrlimit(_logger);
        }
    }

    public TimeSpan Timeout => _options.ToolTimeout;

    public long MemoryLimitBytes => _options.ToolMemoryLimitBytes;

    public async Task<ToolOutcome> RunAsync(ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var exe = ToolLocator.Find(invocation.Tool);
        var args = new List<string>(invocation.Arguments.Count + 4);
        string target;
        if (_prlimit is not null)
        {
            target = _prlimit;
            args.Add(string.Create(CultureInfo.InvariantCulture, $"--as={MemoryLimitBytes}"));
            args.Add("--core=0");
            args.Add("--");
            args.Add(exe);
        }
        else
        {
            target = exe;
        }

        args.AddRange(invocation.Arguments);

        var stdout = new StringBuilder();
        var outputTooLarge = false;
        var stderrTail = new Queue<string>();
        void OnStdout(string line)
        {
            if (invocation.OnOutputLine is { } handler)
            {
                handler(line);
                return;
            }

            if (stdout.Length + line.Length + 1 > invocation.MaxOutputChars)
            {
                outputTooLarge = true;
                return;
            }

            stdout.Append(line).Append('\n');
        }

        void OnStderr(string line)
        {
            invocation.OnErrorLine?.Invoke(line);
            lock (stderrTail)
            {
                stderrTail.Enqueue(line);
                if (stderrTail.Count > StderrTailLines)
                {
                    stderrTail.Dequeue();
                }
            }
        }

        using var binary = invocation.BinaryOutput ? new BoundedMemoryStream(invocation.MaxOutputChars) : null;
        var command = Cli.Wrap(target)
            .WithArguments(args)
            .WithEnvironmentVariables(e => e.Set("OMP_THREAD_LIMIT", "1").Set("LC_ALL", "C.UTF-8"))
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(binary is null ? PipeTarget.ToDelegate(OnStdout, Encoding.UTF8) : PipeTarget.ToStream(binary))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(OnStderr, Encoding.UTF8));
        if (invocation.StandardInput is { } input)
        {
            command = command.WithStandardInputPipe(PipeSource.FromBytes(input));
        }

        if (invocation.WorkingDirectory is { } cwd)
        {
            command = command.WithWorkingDirectory(cwd);
        }

        using var activity = MediaTelemetry.ActivitySource.StartActivity("media.tool " + invocation.Tool);
        activity?.SetTag("atlas.media.tool", invocation.Tool);
        Log.ToolStarting(_logger, invocation.Tool, Timeout.TotalSeconds, MemoryLimitBytes);
        using var timeout = new CancellationTokenSource(Timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var started = Stopwatch.GetTimestamp();
        int exitCode;
        try
        {
            var result = await command.ExecuteAsync(linked.Token).ConfigureAwait(false);
            exitCode = result.ExitCode;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Fail(invocation.Tool, "timeout", elapsedMs, "killed");
            throw new MediaException(MediaErrorCode.ToolTimeout,
                $"{invocation.Tool} did not finish within {Timeout.TotalSeconds:0.###} s and was stopped (Atlas:Media:ToolTimeout). Try a shorter or smaller file.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new MediaException(MediaErrorCode.ToolMissing, $"{invocation.Tool} could not be started: {ex.Message}. {ToolLocator.InstallHint(invocation.Tool)}", ex);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        MediaTelemetry.ToolDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("tool", invocation.Tool));
        string tail;
        lock (stderrTail)
        {
            tail = string.Join('\n', stderrTail);
        }

        if (!invocation.SuccessExitCodes.Contains(exitCode))
        {
            if (LooksLikeMemoryExhaustion(exitCode, tail))
            {
                Fail(invocation.Tool, "memory", (long)elapsed.TotalMilliseconds, tail);
                throw new MediaException(MediaErrorCode.ToolMemoryLimit,
                    $"{invocation.Tool} ran out of memory under the limit of {MemoryLimitBytes / (1024 * 1024)} MiB (Atlas:Media:ToolMemoryLimitBytes). Use a smaller file or raise the limit.");
            }

            Fail(invocation.Tool, "exit " + exitCode.ToString(CultureInfo.InvariantCulture), (long)elapsed.TotalMilliseconds, tail);
            throw new MediaException(MediaErrorCode.ToolFailed, $"{invocation.Tool} failed with exit code {exitCode}: {LastMeaningfulLine(tail)}");
        }

        if (outputTooLarge || binary?.Overflowed == true)
        {
            throw new MediaException(MediaErrorCode.ToolFailed, $"{invocation.Tool} wrote more than {invocation.MaxOutputChars} characters of output; the input is refused.");
        }

        return new ToolOutcome(exitCode, stdout.ToString(), tail, elapsed) { StandardOutputBytes = binary?.ToArray() ?? [] };
    }

    /// <summary>Keeps at most a given number of bytes and notes when more arrived (the rest is drained, not kept).</summary>
    private sealed class BoundedMemoryStream(int limit) : MemoryStream
    {
        public bool Overflowed { get; private set; }

        // MemoryStream routes every other Write overload of a derived type through this one.
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Length + count > limit)
            {
                Overflowed = true;
                return;
            }

            base.Write(buffer, offset, count);
        }
    }

    private void Fail(string tool, string reason, long elapsedMs, string detail)
    {
        MediaTelemetry.ToolFailures.Add(1, new KeyValuePair<string, object?>("tool", tool), new KeyValuePair<string, object?>("reason", reason));
        Log.ToolFailed(_logger, tool, reason, elapsedMs, detail);
    }

    private static bool LooksLikeMemoryExhaustion(int exitCode, string stderr) =>
        stderr.Contains("Cannot allocate memory", StringComparison.OrdinalIgnoreCase) ||
        stderr.Contains("bad_alloc", StringComparison.Ordinal) ||
        stderr.Contains("out of memory", StringComparison.OrdinalIgnoreCase) ||
        stderr.Contains("failed to map segment", StringComparison.OrdinalIgnoreCase) ||
        stderr.Contains("memory allocation failed", StringComparison.OrdinalIgnoreCase) ||
        (exitCode is 134 or 137 && stderr.Contains("alloc", StringComparison.OrdinalIgnoreCase));

    /// <summary>The last non-noise line of standard error, for an error message (dbus chatter from zbar is skipped).</summary>
    internal static string LastMeaningfulLine(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = lines.Length - 1; i >= 0; i--)
        {
            if (!lines[i].Contains("dbus", StringComparison.OrdinalIgnoreCase) && !lines[i].StartsWith("Connection Error", StringComparison.Ordinal))
            {
                return lines[i].Length > 300 ? lines[i][..300] : lines[i];
            }
        }

        return "(no error output)";
    }
}
