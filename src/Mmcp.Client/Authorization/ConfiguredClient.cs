using Mmcp.Client.Connectors;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Client.Authorization;

/// <summary>
/// The OAuth client a server's definition names (<c>transport.oauth</c>), resolved: a pre-registered client id and
/// its secret (from <c>${env:…}</c> or <c>${input:…}</c>; never logged), the scopes to ask for, a client ID metadata
/// document URL, a fixed redirect port. Used by the interactive sign-in and by background refreshes alike.
/// </summary>
internal sealed record ConfiguredClient(string? ClientId, string? ClientSecret, IReadOnlyList<string> Scopes, Uri? MetadataUrl, int? RedirectPort)
{
    /// <summary>No configuration: dynamic registration, the server's scopes, any port.</summary>
    public static readonly ConfiguredClient None = new(null, null, [], null, null);

    /// <summary>Resolves the definition's <c>oauth</c> object.</summary>
    /// <exception cref="HubException">A referenced variable or input is missing (<see cref="HubErrorCode.ConfigurationError"/>).</exception>
    public static ConfiguredClient Resolve(DiscoveredServer server, HttpTransport transport, MmcpEnvironment environment)
    {
        if (transport.OAuth is not { } oauth)
        {
            return None;
        }

        var clientId = oauth.ClientId is null ? null : VariableResolver.Resolve(oauth.ClientId, environment, server, "transport.oauth.clientId");
        var secret = oauth.ClientSecret is null ? null : VariableResolver.Resolve(oauth.ClientSecret, environment, server, "transport.oauth.clientSecret");
        return new ConfiguredClient(clientId, secret, oauth.Scopes, oauth.ClientMetadataUrl, oauth.RedirectPort);
    }

    /// <summary>Never prints the secret.</summary>
    public override string ToString() => $"ConfiguredClient {{ ClientId = {ClientId}, ClientSecret = {(ClientSecret is null ? "none" : "***")}, Scopes = {string.Join(' ', Scopes)} }}";
}
