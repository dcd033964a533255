namespace Atlas.Client;

/// <summary>An error answered by the desktop, with its stable protocol code.</summary>
public sealed class AtlasException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The stable error code (see <see cref="Protocol.ErrorCodes"/>).</param>
    /// <param name="message">The human message.</param>
    /// <param name="innerException">The cause, if any.</param>
    public AtlasException(string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The stable error code.</summary>
    public string Code { get; }

    /// <summary>For <c>rate_limited</c> and similar refusals: seconds to wait before trying again, when the desktop said.</summary>
    public int? RetryAfter { get; init; }
}
