using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.Tokens;

namespace Mmcp.Gateway.Tests.Security;

/// <summary>
/// The gateway finds its OAuth issuer's keys from RFC 8414 metadata as well as from OpenID discovery, and refuses an
/// issuer whose metadata names another issuer (issue 14, part 2), against the real OpenIddict test server.
/// </summary>
[Trait("Speed", "slow")]
public sealed partial class OAuthIssuerMetadataTests
{
    /// <summary>An issuer that publishes only <c>/.well-known/oauth-authorization-server</c>: its tokens are accepted; a forged signature and <c>alg: none</c> are still refused.</summary>
    [Fact]
    [Trait("Issue14", "4")]
    public async Task Rfc8414OnlyIssuer_ValidTokenAccepted_ForgedAndNoneRefused()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var issuer = await OAuthIssuerProcess.StartAsync("--rfc8414-only");
        using (var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TestTimeouts.Default })
        {
            using var openId = await http.GetAsync(new Uri(issuer.Issuer, ".well-known/openid-configuration"), TestContext.Current.CancellationToken);
            using var oauth = await http.GetAsync(new Uri(issuer.Issuer, ".well-known/oauth-authorization-server"), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NotFound, openId.StatusCode);
            Assert.Equal(HttpStatusCode.OK, oauth.StatusCode);
        }

        await using var gateway = await GatewayHost.StartAsync(env, o =>
        {
            o.RequireToken = true;
            o.OAuthIssuer = issuer.Issuer.AbsoluteUri;
        });
        var token = await issuer.ClientCredentialsTokenAsync(gateway.Url, "tools:list", "tools:call");

        var ok = await gateway.GetAsync("/mcp/tools/list", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));
        Assert.True(ok.Status == HttpStatusCode.OK, ok.Body);
        Assert.Contains("io_test_alpha__echo", ok.Body, StringComparison.Ordinal);

        var parts = token.Split('.');
        var claims = Base64UrlEncoder.Decode(parts[1]).Replace("tools:list", "tools:lisx", StringComparison.Ordinal);
        var forged = $"{parts[0]}.{Base64UrlEncoder.Encode(claims)}.{parts[2]}";
        var none = $"{Base64UrlEncoder.Encode("""{"alg":"none","typ":"at+jwt"}""")}.{parts[1]}.";
        foreach (var (bad, expected) in new[] { (forged, "does not verify"), (none, "'none'") })
        {
            var refused = await gateway.GetAsync("/mcp/tools/list", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bad));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
            Assert.Contains(expected, JsonDocument.Parse(refused.Body).RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// <c>mmcp serve --oauth-issuer</c> with an issuer whose metadata names another issuer: the log says so at
    /// startup, and a token from it is refused with that reason (never with the token in the log).
    /// </summary>
    [Fact]
    [Trait("Issue14", "4")]
    public async Task MetadataNamesAnotherIssuer_StartupLogSaysSo_TokensRefused()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var issuer = await OAuthIssuerProcess.StartAsync();
        await issuer.SetAsync(metadataIssuer: "http://127.0.0.1:9/other/");
        var mmcp = Path.Combine(AppContext.BaseDirectory, "mmcp.dll");
        await using var serve = ChildProcess.Start("dotnet", [mmcp, "serve", "--port", "0", "--no-import", "--require-token", "--oauth-issuer", issuer.Issuer.AbsoluteUri], env.Variables);
        var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;
        var logged = await serve.WaitForLineAsync(l => l.Contains("names the issuer 'http://127.0.0.1:9/other/'", StringComparison.Ordinal));
        Assert.Contains($"not '{issuer.Issuer.AbsoluteUri}'", logged, StringComparison.Ordinal);

        var token = await issuer.ClientCredentialsTokenAsync(url, "tools:list");
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TestTimeouts.Default };
        using var request = new HttpRequestMessage(HttpMethod.Get, url + "/mcp/tools/list");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("names the issuer", body, StringComparison.Ordinal);
        Assert.DoesNotContain(token, serve.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex UrlPattern();
}
