namespace Mmcp.Client;

/// <summary>Why a server last failed, kept by the hub so that later errors and status reports can say why.</summary>
/// <param name="Code">What kind of failure it was.</param>
/// <param name="Message">A human-readable explanation, including what to do about it where the hub can tell.</param>
/// <param name="At">When it happened.</param>
public sealed record ServerFailure(HubErrorCode Code, string Message, DateTimeOffset At)
{
    /// <summary>Gets the exit code of the server process, when it was a process that exited.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Gets the last lines the server process wrote to standard error (or its launch log), oldest first.</summary>
    public IReadOnlyList<string> StandardErrorTail { get; init; } = [];

    /// <summary>Gets the HTTP status code that ended a remote server's connection, when there was one.</summary>
    public int? HttpStatusCode { get; init; }
}
