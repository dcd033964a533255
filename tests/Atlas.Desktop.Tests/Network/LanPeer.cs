using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Atlas.Client.Pairing;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Network;

/// <summary>Another host on the LAN, played by another loopback source address (127.0.0.2, 127.0.0.3, …: Linux routes
/// all of 127/8 to the loopback adapter), talking to the test host over real TLS.</summary>
internal static class LanPeer
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A handler whose connections leave from <paramref name="source"/> and pin the host's key.</summary>
    public static SocketsHttpHandler Handler(AtlasTestHost host, string source)
    {
        var pin = host.Pin;
        return new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, chain, _) => SpkiPin.Matches(certificate, chain, pin) },
            ConnectCallback = async (context, cancellationToken) =>
                new NetworkStream(await ConnectAsync(source, context.DnsEndPoint.Port, cancellationToken), ownsSocket: true),
        };
    }

    public static HttpClient Http(AtlasTestHost host, string source) =>
        new(Handler(host, source)) { BaseAddress = host.BaseUri, Timeout = TestTimeouts.Default };

    /// <summary>Opens a WebSocket from <paramref name="source"/>; returns it open, or the HTTP status that refused it.</summary>
    public static async Task<(ClientWebSocket Socket, HttpStatusCode Status)> WebSocketAsync(AtlasTestHost host, string source)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(host.WebSocketUri, new HttpMessageInvoker(Handler(host, source)), Ct);
        }
        catch (WebSocketException)
        {
            // The status says why.
        }

        return (socket, socket.HttpStatusCode);
    }

    /// <summary>Sends <paramref name="head"/> (request line and headers, without the blank line) over TLS exactly as
    /// written, so a test can send what HttpClient would not (two Origin headers). Returns the status and the response
    /// head and body read so far.</summary>
    public static async Task<(int Status, string Text)> SendRawAsync(AtlasTestHost host, string head, string source = "127.0.0.1")
    {
        using var socket = await ConnectAsync(source, host.BaseUri.Port, Ct);
        var pin = host.Pin;
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            RemoteCertificateValidationCallback = (_, certificate, chain, _) => SpkiPin.Matches(certificate, chain, pin),
        }, Ct);
        await tls.WriteAsync(Encoding.ASCII.GetBytes(head.TrimEnd() + "\r\n\r\n"), Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Default);
        var received = new StringBuilder();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var text = received.ToString();
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var responseHead = text[..end];
                var complete = responseHead.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)
                    ? text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal)
                    : text.Length - end - 4 >= ContentLength(responseHead);
                if (complete)
                {
                    return (int.Parse(text.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), text);
                }
            }

            var read = await tls.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                throw new IOException("The server closed the connection before a full response: " + text);
            }

            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
    }

    /// <summary>The head of a request to the host: request line, Host, and the given extra header lines.</summary>
    public static string Head(AtlasTestHost host, string requestLine, params string[] headers) =>
        $"{requestLine} HTTP/1.1\r\nHost: 127.0.0.1:{host.BaseUri.Port}\r\n{string.Join("\r\n", headers)}";

    /// <summary>The headers of a WebSocket upgrade request.</summary>
    public static string[] UpgradeHeaders() =>
    [
        "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: " + Convert.ToBase64String(Guid.NewGuid().ToByteArray()),
    ];

    private static int ContentLength(string head)
    {
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private static async Task<Socket> ConnectAsync(string source, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
