using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Web;
using ModelContextProtocol.Authentication;

namespace Mmcp.Client.Authorization;

/// <summary>
/// The loopback redirect of a native app's sign-in (RFC 8252 §7.3): listens on <c>127.0.0.1</c> on a port the OS
/// picks, waits for the browser to arrive at <c>/callback</c> with the authorization response, checks its
/// <c>state</c> against the one sent (a response for another request is refused), and answers the browser with a
/// page saying what happened. Other paths (a favicon, a wrong redirect) get a 404 and do not end the wait.
/// </summary>
internal sealed class LoopbackRedirectListener : IDisposable
{
    private const int MaxRequestBytes = 16 * 1024;
    private readonly TcpListener _listener;

    private LoopbackRedirectListener(TcpListener listener)
    {
        _listener = listener;
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        RedirectUri = new Uri($"http://127.0.0.1:{port}/callback");
    }

    /// <summary>Gets the redirect URI to register and send (<c>http://127.0.0.1:PORT/callback</c>).</summary>
    public Uri RedirectUri { get; }

    /// <summary>Starts listening on a free loopback port, or on <paramref name="port"/> when given and free.</summary>
    /// <param name="port">The port to prefer (the one a stored or configured client registered), or 0 for any.</param>
    /// <param name="required">Whether <paramref name="port"/> must be used (a configured redirect port): then a busy port is an error.</param>
    public static LoopbackRedirectListener Start(int port = 0, bool required = false)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
        }
        catch (SocketException) when (port != 0 && !required)
        {
            listener.Dispose();
            listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
        }

        return new LoopbackRedirectListener(listener);
    }

    /// <summary>Waits for the browser's authorization response.</summary>
    /// <param name="serverId">The server (for messages).</param>
    /// <param name="expectedState">The <c>state</c> sent in the authorization request.</param>
    /// <param name="cancellationToken">Ends the wait (the sign-in's timeout).</param>
    /// <returns>The code, state and issuer of the response.</returns>
    /// <exception cref="HubException">The authorization server refused, or the response does not belong to this sign-in.</exception>
    public async Task<AuthorizationResult> WaitAsync(string serverId, string? expectedState, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var client = await _listener.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
            var stream = client.GetStream();
            var target = await ReadRequestTargetAsync(stream, cancellationToken).ConfigureAwait(false);
            if (target is null || !Uri.TryCreate(RedirectUri, target, out var uri) || uri.AbsolutePath != RedirectUri.AbsolutePath)
            {
                await RespondAsync(stream, 404, "Not found", "This is mmcp's sign-in callback; nothing is here.", cancellationToken).ConfigureAwait(false);
                continue;
            }

            var query = HttpUtility.ParseQueryString(uri.Query);
            if (query["error"] is { } error)
            {
                var description = query["error_description"] is { } d ? $" ({d})" : string.Empty;
                await RespondAsync(stream, 400, "Sign-in refused", $"The authorization server refused the sign-in to '{serverId}': {error}{description}.", cancellationToken).ConfigureAwait(false);
                throw new HubException(HubErrorCode.SignInRequired, serverId, $"The authorization server refused the sign-in to '{serverId}': {error}{description}.") { Reason = HubErrorReasons.SignInRefused };
            }

            var state = query["state"];
            if (expectedState is null || !string.Equals(state, expectedState, StringComparison.Ordinal))
            {
                await RespondAsync(stream, 400, "Sign-in refused", "The answer does not belong to this sign-in (its state does not match); it was refused.", cancellationToken).ConfigureAwait(false);
                throw new HubException(HubErrorCode.SignInRequired, serverId, $"The sign-in to '{serverId}' was refused: the browser came back with a state that does not match the one sent (a response to another request, or a forged one). Run `mmcp auth login {serverId}` again.") { Reason = HubErrorReasons.SignInStateMismatch };
            }

            if (query["code"] is not { Length: > 0 } code)
            {
                await RespondAsync(stream, 400, "Sign-in refused", "The answer carries no authorization code.", cancellationToken).ConfigureAwait(false);
                throw new HubException(HubErrorCode.SignInRequired, serverId, $"The sign-in to '{serverId}' failed: the authorization server's answer carries no code.") { Reason = HubErrorReasons.SignInNoCode };
            }

            await RespondAsync(stream, 200, "Signed in", $"mmcp is signed in to '{serverId}'. You can close this tab.", cancellationToken).ConfigureAwait(false);
            return new AuthorizationResult { Code = code, State = state, Iss = query["iss"] };
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Reads the request line of one HTTP/1.1 request and returns its target (path and query), or <see langword="null"/>.</summary>
    private static async Task<string?> ReadRequestTargetAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        var text = Encoding.ASCII.GetString(buffer, 0, length);
        var line = text.Split("\r\n", 2)[0].Split(' ');
        return line.Length == 3 && line[0] == "GET" && line[1].StartsWith('/') ? line[1] : null;
    }

    private static async Task RespondAsync(NetworkStream stream, int status, string title, string message, CancellationToken cancellationToken)
    {
        var id = status == 200 ? "done" : "failed";
        var body = $"<!doctype html><html><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(title)}</title></head><body><h1>{WebUtility.HtmlEncode(title)}</h1><p id=\"{id}\">{WebUtility.HtmlEncode(message)}</p></body></html>";
        var bytes = Encoding.UTF8.GetBytes(body);
        var reason = status switch { 200 => "OK", 404 => "Not Found", _ => "Bad Request" };
        var head = $"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {bytes.Length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The browser went away; the outcome stands.
        }
    }
}
