using System.Net.Sockets;
using System.Text.Json.Serialization.Metadata;
using Atlas.Client.Protocol;
using Atlas.Connect;

namespace Atlas.Desktop.Cli;

/// <summary>Talks to a running <c>atlas serve</c> over its control socket (same OS user only).</summary>
internal sealed class ControlClient : IDisposable
{
    private readonly HttpClient _http;

    public ControlClient(string socketPath)
    {
        SocketPath = socketPath;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://atlas.control/control/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string SocketPath { get; }

    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken).ConfigureAwait(false);
        return (await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<T?> PostAsync<T>(string path, HttpContent? content, JsonTypeInfo<T>? type, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content }, cancellationToken)
            .ConfigureAwait(false);
        return type is null || response.StatusCode == System.Net.HttpStatusCode.NoContent
            ? default
            : await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.NotRunning,
                $"atlas is not running for this data directory (no answer on {SocketPath}). Start it with 'atlas serve'.", e);
        }
        finally
        {
            request.Dispose();
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            ErrorResponse? error = null;
            try
            {
                error = await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ErrorResponse, cancellationToken).ConfigureAwait(false);
            }
            catch (System.Text.Json.JsonException)
            {
                // Fall back to the status code.
            }

            var code = error?.Error.Code;
            throw new CliException(code == ErrorCodes.NotFound ? ExitCodes.NotFound : ExitCodes.Refused,
                error?.Error.Message ?? $"atlas answered HTTP {(int)response.StatusCode}.");
        }
    }

    public void Dispose() => _http.Dispose();
}
