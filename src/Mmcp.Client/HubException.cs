namespace Mmcp.Client;

/// <summary>The one exception type the hub throws for failures of servers, tools and definitions.</summary>
/// <remarks>
/// Switch on <see cref="Code"/>, not on the message. Cancellation by the caller is reported as
/// <see cref="OperationCanceledException"/>, never as a <see cref="HubException"/>. A tool that runs and reports an
/// error (<c>isError: true</c>) is not an exception either: its result is returned.
/// </remarks>
public sealed class HubException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="HubException"/> class.</summary>
    public HubException()
        : this(HubErrorCode.ServerError, null, "The hub operation failed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HubException"/> class.</summary>
    /// <param name="message">The message.</param>
    public HubException(string message)
        : this(HubErrorCode.ServerError, null, message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HubException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public HubException(string message, Exception? innerException)
        : this(HubErrorCode.ServerError, null, message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HubException"/> class.</summary>
    /// <param name="code">What kind of failure it is.</param>
    /// <param name="serverId">The server concerned, or <see langword="null"/>.</param>
    /// <param name="message">What went wrong and, where the hub can tell, how to fix it.</param>
    /// <param name="innerException">The cause, or <see langword="null"/>.</param>
    /// <param name="failure">The server failure behind this error, or <see langword="null"/>.</param>
    public HubException(HubErrorCode code, string? serverId, string message, Exception? innerException = null, ServerFailure? failure = null)
        : base(message, innerException)
    {
        Code = code;
        ServerId = serverId;
        Failure = failure;
    }

    /// <summary>Gets what kind of failure this is.</summary>
    public HubErrorCode Code { get; }

    /// <summary>Gets the id of the server concerned, or <see langword="null"/>.</summary>
    public string? ServerId { get; }

    /// <summary>Gets the tool, prompt or resource concerned, or <see langword="null"/>.</summary>
    public string? Target { get; init; }

    /// <summary>
    /// Gets what precisely went wrong within <see cref="Code"/>, for programs that act on it (one of
    /// <see cref="HubErrorReasons"/>), or <see langword="null"/>; the message is for people and may change.
    /// </summary>
    public string? Reason { get; init; }

    /// <summary>Gets the server failure behind this error (exit code, standard error tail, HTTP status), or <see langword="null"/>.</summary>
    public ServerFailure? Failure { get; }
}
