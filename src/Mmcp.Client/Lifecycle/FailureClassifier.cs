using System.Net;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace Mmcp.Client.Lifecycle;

/// <summary>
/// What a failed request means: the connection is gone (transient: the next use restarts the server), the server lost
/// the session (a new session cures it), the call budget ran out, the caller's mistake (not found, invalid arguments)
/// or the server's fault. Pure decisions over the exception, so the session and the gateway's pass-through decide
/// alike and tests can table them.
/// </summary>
internal static class FailureClassifier
{
    /// <summary>The code of a request's failure.</summary>
    /// <param name="exception">What the request threw (never a <see cref="HubException"/>).</param>
    /// <param name="connectionLost">Whether the connection had ended when the request failed.</param>
    /// <param name="timedOut">Whether the request's call budget ran out.</param>
    /// <param name="kind">The kind of request.</param>
    /// <returns><see cref="HubErrorCode.ServerCrashed"/> when the connection is gone, <see cref="HubErrorCode.CallTimeout"/>,
    /// <see cref="HubErrorCode.NotFound"/> or <see cref="HubErrorCode.InvalidArguments"/> for what the caller asked, and
    /// <see cref="HubErrorCode.ServerError"/> for the rest.</returns>
    public static HubErrorCode Classify(Exception exception, bool connectionLost, bool timedOut, RequestKind kind)
    {
        if (connectionLost || exception is IOException or ObjectDisposedException or HttpRequestException)
        {
            return HubErrorCode.ServerCrashed;
        }

        if (timedOut && exception is OperationCanceledException)
        {
            return HubErrorCode.CallTimeout;
        }

        if (exception is McpProtocolException protocol)
        {
            return (protocol.ErrorCode, kind) switch
            {
                (McpErrorCode.ResourceNotFound, _) => HubErrorCode.NotFound,
                (McpErrorCode.InvalidParams, RequestKind.ReadResource) => HubErrorCode.NotFound,
                (McpErrorCode.InvalidParams, RequestKind.CallTool or RequestKind.GetPrompt) => HubErrorCode.InvalidArguments,
                _ => HubErrorCode.ServerError,
            };
        }

        return HubErrorCode.ServerError;
    }

    /// <summary>Whether a request that failed with <paramref name="code"/> may be sent again on a new connection (when sending it twice does no harm).</summary>
    /// <param name="code">The failure's code.</param>
    /// <returns><see langword="true"/> for a crash, the only transient failure.</returns>
    public static bool IsTransient(HubErrorCode code) => code == HubErrorCode.ServerCrashed;

    /// <summary>Whether a failure to connect counts towards the restart back-off: a configuration error does not (trying again soon changes nothing, and backing off would hide the fix).</summary>
    /// <param name="code">The failure's code.</param>
    /// <returns><see langword="false"/> for <see cref="HubErrorCode.ConfigurationError"/> and <see cref="HubErrorCode.SignInRequired"/> (the user's sign-in is the fix, and it must work at once).</returns>
    public static bool CountsTowardsBackoff(HubErrorCode code) => code is not (HubErrorCode.ConfigurationError or HubErrorCode.SignInRequired);

    /// <summary>
    /// Whether a remote server answered that it does not know this connection's session: HTTP 404 (the spec), or a
    /// JSON-RPC error naming the session, which is how the SDK (2.3.1) surfaces the 400 "No valid session ID provided"
    /// of servers built on the TypeScript SDK (server-everything, the conformance reference server). Only meaningful
    /// for HTTP connections (a stdio server's session is its process): the caller checks the transport.
    /// </summary>
    /// <param name="exception">What the request threw.</param>
    /// <param name="completion">The connection's <see cref="McpClient.Completion"/>: the SDK ends the connection on a 404 by itself.</param>
    /// <returns><see langword="true"/> when a new session cures the failure.</returns>
    public static bool IsSessionLost(Exception exception, Task<ClientCompletionDetails> completion)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case HttpRequestException { StatusCode: HttpStatusCode.NotFound }:
                    return true;
                case McpProtocolException p when p.Message.Contains("session", StringComparison.OrdinalIgnoreCase)
                    && ((int)p.ErrorCode is -32000 or -32001 || p.Message.Contains("Bad Request", StringComparison.Ordinal) || p.Message.Contains("Not Found", StringComparison.Ordinal)):
                    return true;
            }
        }

#pragma warning disable RS0030 // read only once complete (IsCompletedSuccessfully): does not block
        return completion is { IsCompletedSuccessfully: true } done
            && done.Result is HttpClientCompletionDetails { HttpStatusCode: HttpStatusCode.NotFound };
#pragma warning restore RS0030
    }

    /// <summary>The HTTP status of the first <see cref="HttpRequestException"/> in the chain, or of the connection's end.</summary>
    /// <param name="exception">What the request threw.</param>
    /// <param name="completion">The connection's <see cref="McpClient.Completion"/>.</param>
    /// <returns>The status, or <see langword="null"/> when none is known.</returns>
    public static int? FindHttpStatus(Exception? exception, Task<ClientCompletionDetails> completion)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { StatusCode: { } code })
            {
                return (int)code;
            }
        }

#pragma warning disable RS0030 // read only once complete (IsCompletedSuccessfully): does not block
        return completion is { IsCompletedSuccessfully: true } done ? (int?)(done.Result as HttpClientCompletionDetails)?.HttpStatusCode : null;
#pragma warning restore RS0030
    }
}
