namespace Atlas.Media.Processes;

/// <summary>One run of an external program.</summary>
internal sealed class ToolInvocation
{
    public ToolInvocation(string tool, IReadOnlyList<string> arguments)
    {
        Tool = tool;
        Arguments = arguments;
    }

    /// <summary>The program name as found on PATH (<c>tesseract</c>, <c>ffmpeg</c>, …).</summary>
    public string Tool { get; }

    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Bytes written to the program's standard input, if any.</summary>
    public ReadOnlyMemory<byte>? StandardInput { get; init; }

    /// <summary>Receives each standard-output line as it arrives; when null, standard output is buffered in the outcome.</summary>
    public Action<string>? OnOutputLine { get; init; }

    /// <summary>Receives each standard-error line as it arrives (the last lines are kept for error messages either way).</summary>
    public Action<string>? OnErrorLine { get; init; }

    /// <summary>Exit codes that mean success. Default: 0 only.</summary>
    public IReadOnlyCollection<int> SuccessExitCodes { get; init; } = [0];

    public string? WorkingDirectory { get; init; }

    /// <summary>Keep standard output as bytes (<see cref="ToolOutcome.StandardOutputBytes"/>) instead of decoding it as UTF-8 lines.</summary>
    public bool BinaryOutput { get; init; }

    /// <summary>Longest standard output kept in memory, in characters; more fails the run. Default: 16 Mi characters.</summary>
    public int MaxOutputChars { get; init; } = 16 * 1024 * 1024;
}

/// <summary>The result of a successful (accepted exit code) program run.</summary>
internal sealed record ToolOutcome(int ExitCode, string StandardOutput, string StandardErrorTail, TimeSpan Elapsed)
{
    /// <summary>Standard output byte for byte, when <see cref="ToolInvocation.BinaryOutput"/> was set.</summary>
    public byte[] StandardOutputBytes { get; init; } = [];
}
