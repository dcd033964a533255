using Mmcp.Client.Authorization;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol.Client;

namespace Mmcp.Client.Connectors;

/// <summary>
/// Reaches a remote server over MCP Streamable HTTP (falling back to the legacy HTTP+SSE transport), or over legacy SSE
/// only when the definition says so. A server that asks for OAuth gets the user's stored sign-in (never a browser:
/// see <see cref="BackgroundAuthorization"/>).
/// </summary>
internal sealed class HttpConnector : IServerConnector
{
    public bool CanConnect(DiscoveredServer server) => server.Manifest.Transport is HttpTransport;

    public async ValueTask<ServerConnection> ConnectAsync(ConnectorContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var server = context.Server;
        var transport = (HttpTransport)server.Manifest.Transport;
        var url = VariableResolver.Resolve(transport.Url.OriginalString, context.Environment, server, "transport.url");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new HubException(HubErrorCode.ConfigurationError, server.Id, $"Server '{server.Id}' cannot start: its URL '{url}' is not an absolute http:// or https:// URL. Fix 'url' in {server.Provenance}.");
        }

        var headers = VariableResolver.ResolveAll(transport.Headers, context.Environment, server, "transport.headers", StringComparer.OrdinalIgnoreCase);
        // A factory (MmcpHubOptions.HttpClientFactory) may bring its own client: a paired Atlas desktop's, pinned to its key.
        var http = context.Options.HttpClientFactory is { } factory ? await factory(server, cancellationToken).ConfigureAwait(false) : null;
        var options = new HttpClientTransportOptions
        {
            Name = server.Id,
            Endpoint = endpoint,
            AdditionalHeaders = headers,
            TransportMode = transport.LegacySse ? HttpTransportMode.Sse : HttpTransportMode.AutoDetect,
            ConnectionTimeout = context.Budgets.Handshake,
            OAuth = BackgroundAuthorization.Applies(transport) ? BackgroundAuthorization.Create(server, endpoint, OAuthTokenStore.ForEnvironment(context.Environment), ConfiguredClient.Resolve(server, transport, context.Environment)) : null,
        };
        // A factory's client is used as it is (an HttpClient cannot be wrapped without sending each request twice): a
        // paired Atlas desktop's, whose server is .NET and writes no lone surrogate.
        var client = new HttpClientTransport(options, http ?? LoneSurrogateHandler.Client(), context.LoggerFactory, ownsHttpClient: true);
        return new ServerConnection(client, resources: client);
    }
}
