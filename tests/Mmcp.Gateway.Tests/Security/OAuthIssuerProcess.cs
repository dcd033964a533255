using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Mmcp.Gateway.Tests.Security;

/// <summary>tests/Mmcp.OAuthServer (OpenIddict) as a real child process on a free loopback port, with its test switches.</summary>
internal sealed class OAuthIssuerProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TestTimeouts.Default };

    private OAuthIssuerProcess(ChildProcess process, Uri issuer)
    {
        _process = process;
        Issuer = issuer;
    }

    /// <summary>Gets the issuer, as it writes it in <c>iss</c> (with a trailing slash).</summary>
    public Uri Issuer { get; }

    /// <summary>Gets what the process printed.</summary>
    public string Output => _process.Output;

    public static async Task<OAuthIssuerProcess> StartAsync(params string[] switches)
    {
        // The server is built beside this project (ProjectReference without the assembly): same configuration, its own folder.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = Path.Combine(Repository.Root, "tests", "Mmcp.OAuthServer", "bin", configuration, "net10.0", "Mmcp.OAuthServer.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build tests/Mmcp.Gateway.Tests (it builds the OAuth server first).");
        var process = ChildProcess.Start("dotnet", [dll, "--port", "0", .. switches]);
        var line = await process.WaitForLineAsync(l => l.StartsWith("issuer: ", StringComparison.Ordinal));
        return new OAuthIssuerProcess(process, new Uri(line["issuer: ".Length..].Trim()));
    }

    public async Task SetAsync(bool? autoApprove = null, TimeSpan? accessTokenLifetime = null, string? metadataIssuer = null)
    {
        var form = new Dictionary<string, string>();
        if (metadataIssuer is not null)
        {
            form["metadata_issuer"] = metadataIssuer;
        }

        if (autoApprove is { } approve)
        {
            form["auto_approve"] = approve ? "true" : "false";
        }

        if (accessTokenLifetime is { } lifetime)
        {
            form["access_token_lifetime_seconds"] = ((int)lifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        using var content = new FormUrlEncodedContent(form);
        using var response = await _http.PostAsync(new Uri(Issuer, "test/settings"), content, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A real token request (client credentials) with a resource indicator.</summary>
    public async Task<string> ClientCredentialsTokenAsync(string resource, params string[] scopes)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = "mmcp-test-service",
            ["client_secret"] = "test-service-secret",
            ["scope"] = string.Join(' ', scopes),
            ["resource"] = resource,
        });
        using var response = await _http.PostAsync(new Uri(Issuer, "connect/token"), content, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!["access_token"]!.GetValue<string>();
    }

    /// <summary>A token signed with the issuer's own key, with claims a well-behaved issuer would not give (expired, another audience or issuer).</summary>
    public async Task<string> MintAsync(string audience, string scope, DateTimeOffset expires, string? issuer = null)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["aud"] = audience,
            ["scope"] = scope,
            ["exp"] = expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["iss"] = issuer ?? string.Empty,
        });
        using var response = await _http.PostAsync(new Uri(Issuer, "test/mint"), content, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>How many clients registered dynamically (RFC 7591) so far.</summary>
    public async Task<int> RegistrationsAsync() =>
        (await _http.GetFromJsonAsync<JsonNode>(new Uri(Issuer, "test/stats"), TestContext.Current.CancellationToken))!["registrations"]!.GetValue<int>();

    /// <summary>Registers a client as an administrator would (public, or confidential with <paramref name="secret"/>), with one exact redirect URI.</summary>
    public async Task RegisterClientAsync(string clientId, string redirectUri, string? secret = null)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = clientId, ["redirect_uri"] = redirectUri, ["client_secret"] = secret ?? string.Empty });
        using var response = await _http.PostAsync(new Uri(Issuer, "test/register-client"), content, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Forgets every dynamically registered client (the next use of a stored registration is refused).</summary>
    public async Task DeleteRegisteredClientsAsync()
    {
        using var response = await _http.PostAsync(new Uri(Issuer, "test/delete-registered-clients"), null, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Revokes every token the issuer gave (refresh tokens stop working at once).</summary>
    public async Task RevokeAllAsync()
    {
        using var response = await _http.PostAsync(new Uri(Issuer, "test/revoke-all"), null, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public async Task<JsonNode> JwksAsync() =>
        (await _http.GetFromJsonAsync<JsonNode>(new Uri(Issuer, ".well-known/jwks"), TestContext.Current.CancellationToken))!;

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _process.DisposeAsync();
    }
}
