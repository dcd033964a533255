using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using Atlas.Client;
using Atlas.Client.Credentials;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;
using Mmcp.Client;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Cli.Remote;

/// <summary>Atlas desktops this machine's hub is paired with (<c>mmcp remote</c>): each is a device credential in
/// <c>$XDG_CONFIG_HOME/mmcp/remotes/&lt;serverId&gt;.json</c> (mode 0600, written by <c>Atlas.Client</c>'s credential store,
/// never printed or logged) plus an <c>http</c> manifest in the user's registry pointing at the desktop's <c>/mcp</c>. The hub
/// reaches such a server only through <see cref="CreateHttpClientAsync"/>: pinned to the desktop's key (not the system CA
/// store) and carrying a session the credential buys, renewed before it expires.</summary>
internal static class RemoteDesktops
{
    /// <summary>The directory of the stored credentials.</summary>
    public static string Directory(MmcpEnvironment environment) => Path.Combine(environment.ConfigHome, "mmcp", "remotes");

    public static string CredentialPath(MmcpEnvironment environment, string serverId) => Path.Combine(Directory(environment), serverId + ".json");

    /// <summary>The server id for a desktop: <c>atlas.&lt;name&gt;</c>, the name lower-cased with every other character a dash.</summary>
    public static string ServerId(string name)
    {
        var slug = new StringBuilder();
        foreach (var c in name.Trim().ToLowerInvariant())
        {
            slug.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? c : '-');
        }

        var text = slug.ToString().Trim('-');
        while (text.Contains("--", StringComparison.Ordinal))
        {
            text = text.Replace("--", "-", StringComparison.Ordinal);
        }

        return "atlas." + (text.Length == 0 ? "desktop" : text[..Math.Min(text.Length, 60)].Trim('-'));
    }

    /// <summary>The manifest that registers the desktop as a remote MCP server.</summary>
    public static ServerManifest Manifest(string serverId, DeviceCredentials credentials) => new()
    {
        Id = serverId,
        Name = $"Atlas desktop '{credentials.DesktopName}'",
        Description = $"The tools of the Atlas desktop '{credentials.DesktopName}' at {credentials.BaseUri}, paired with 'mmcp remote add' (certificate key pinned).",
        Version = "1.0.0",
        Transport = new HttpTransport { Url = new Uri(credentials.BaseUri, "mcp") },
    };

    /// <summary>The hook the hub's HTTP connector calls (<c>MmcpHubOptions.HttpClientFactory</c>): a pinned client with the
    /// device's session for a paired desktop, or null for any other server.</summary>
    public static async ValueTask<HttpClient?> CreateHttpClientAsync(MmcpEnvironment environment, DiscoveredServer server, CancellationToken cancellationToken)
    {
        if (server.Manifest.Transport is not HttpTransport http || !File.Exists(CredentialPath(environment, server.Id)))
        {
            return null;
        }

        var credentials = await new FileCredentialStore(CredentialPath(environment, server.Id)).LoadAsync(cancellationToken).ConfigureAwait(false);
        if (credentials is null)
        {
            return null;
        }

        if (!string.Equals(http.Url.GetLeftPart(UriPartial.Authority), credentials.BaseUri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
        {
            throw new HttpRequestException($"Server '{server.Id}' points at {http.Url}, but this machine paired with the desktop at {credentials.BaseUri}; its credential is sent nowhere else. Run 'mmcp remote remove {server.Id}' and pair again with 'mmcp remote add <pairing-url>'.");
        }

        var pin = credentials.Fingerprint;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // Exactly the pin: a certificate from any CA, the system store included, is refused unless its key matches.
                RemoteCertificateValidationCallback = (_, certificate, chain, _) => SpkiPin.Matches(certificate, chain, pin),
            },
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        return new HttpClient(new DesktopSessionHandler(server.Id, new AtlasClient(credentials)) { InnerHandler = handler }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>Whether <paramref name="exception"/> is a TLS refusal (the certificate's key does not match the pin).</summary>
    public static bool IsPinMismatch(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }

    public static string PinMismatchMessage(string serverId, Uri baseUri) =>
        $"The desktop at {baseUri} ('{serverId}') presented a certificate whose key does not match the one pinned when this machine paired; refusing to connect. If its identity changed on purpose (new TLS mode, a reinstall), pair again: 'mmcp remote remove {serverId}', then 'mmcp remote add <pairing-url>'.";

    /// <summary>Whether <paramref name="serverId"/> is a desktop this machine paired with (its credential is stored).</summary>
    public static bool IsPaired(MmcpEnvironment environment, string serverId) => File.Exists(CredentialPath(environment, serverId));

    /// <summary>What to do when a paired desktop no longer accepts this machine.</summary>
    public static string PairAgainFix(string serverId) =>
        $"pair again: 'mmcp remote remove {serverId}', then 'mmcp remote add <pairing-url>' with a new pairing link from the desktop.";

    public static string RevokedMessage(string serverId) =>
        $"The desktop revoked this device; pair again with mmcp remote add <pairing-url> (and remove the old entry with 'mmcp remote remove {serverId}').";

    /// <summary>Adds the device's session (<c>Authorization: Bearer st_…</c>) to each request, renewing it with the credential
    /// before it expires; turns a revoked device, a refusal and a pin mismatch into errors that say what to do.</summary>
    private sealed class DesktopSessionHandler(string serverId, AtlasClient client) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var session = await SessionAsync(cancellationToken).ConfigureAwait(false);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session.SessionToken);
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (IsPinMismatch(e))
            {
                throw new HttpRequestException(PinMismatchMessage(serverId, client.Credentials.BaseUri), e);
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                // A session the desktop no longer knows: ask for a new one, which tells a revoked device from a lost session.
                client.InvalidateSession();
                await SessionAsync(cancellationToken).ConfigureAwait(false);
                return response;
            }

            if (response.StatusCode is HttpStatusCode.Forbidden)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                response.Dispose();
                throw new HttpRequestException($"The desktop '{client.Credentials.DesktopName}' refused this device: {Message(body)}", null, HttpStatusCode.Forbidden);
            }

            return response;
        }

        private async Task<SessionResponse> SessionAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await client.GetSessionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (AtlasException e) when (e.Code is ErrorCodes.Revoked or ErrorCodes.Unauthorized or ErrorCodes.PairingDenied)
            {
                // The desktop is up and answered: the user's action is the fix, as for a refused sign-in (exit 9, no back-off).
                throw new HubException(HubErrorCode.SignInRequired, serverId, RevokedMessage(serverId), e);
            }
            catch (HttpRequestException e) when (IsPinMismatch(e))
            {
                throw new HttpRequestException(PinMismatchMessage(serverId, client.Credentials.BaseUri), e);
            }
        }

        private static string Message(string body)
        {
            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(body);
                return document.RootElement.GetProperty("error").GetProperty("message").GetString() ?? body;
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return body.Length > 200 ? body[..200] : body;
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                client.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
