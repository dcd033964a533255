using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;

namespace Atlas.Client.Connection;

/// <summary>Tells an unreachable desktop (try again later) from a refusal (do not): what every app needs to decide
/// between "offline, keep working" and "stop and tell the user".</summary>
public static class AtlasReachability
{
    /// <summary>Whether <paramref name="exception"/> means the desktop could not be reached right now (it is down, the
    /// address is wrong, the network is away, a request timed out). A certificate mismatch is never "unreachable".</summary>
    /// <param name="exception">What a connect or request threw.</param>
    /// <returns><see langword="true"/> when trying again later may succeed.</returns>
    public static bool IsUnreachable(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return !IsCertificateMismatch(exception) && exception is HttpRequestException or SocketException or WebSocketException
            or HttpIOException or TimeoutException or TaskCanceledException { CancellationToken.IsCancellationRequested: false };
    }

    /// <summary>Whether <paramref name="exception"/> (or one of its inner exceptions) is a TLS failure: the server does
    /// not have the key this device pinned. Nothing was sent; do not retry silently.</summary>
    /// <param name="exception">What a connect or request threw.</param>
    /// <returns><see langword="true"/> for a TLS authentication failure.</returns>
    public static bool IsCertificateMismatch(Exception exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }
}
