namespace Atlas.Connect;

/// <summary>An expected failure of an <c>atlas</c> command: the message for the user and the process exit code
/// (<see cref="ExitCodes"/>).</summary>
internal sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
