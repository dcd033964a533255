using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Mmcp.Gateway.Tests.Security;

/// <summary>The gateway as an OAuth protected resource (<c>OAuthIssuer</c>), against a real OpenIddict authorization server on loopback.</summary>
[Trait("Speed", "slow")]
public sealed class OAuthResourceTests
{
    private const string Tool = "io_test_alpha__echo";

    /// <summary>The RFC 9728 metadata names the gateway as the resource, the issuer as its authorization server, and the gateway's scopes.</summary>
    [Fact]
    [Trait("Issue14", "2")]
    public async Task ProtectedResourceMetadata_WithIssuer_NamesResourceIssuerAndScopes()
    {
        await using var fixture = await Fixture.StartAsync();

        var (status, body) = await fixture.Gateway.GetAsync("/.well-known/oauth-protected-resource/mcp");
        var (rootStatus, rootBody) = await fixture.Gateway.GetAsync("/.well-known/oauth-protected-resource");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(body, rootBody);
        Assert.Equal(HttpStatusCode.OK, rootStatus);
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal(fixture.Gateway.Url, root.GetProperty("resource").GetString());
        Assert.Equal([fixture.Issuer.AbsoluteUri], root.GetProperty("authorization_servers").EnumerateArray().Select(e => e.GetString()));
        var scopes = root.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("tools:list", scopes);
        Assert.Contains("tools:call", scopes);
        Assert.DoesNotContain("*", scopes);
        Assert.Equal(["header"], root.GetProperty("bearer_methods_supported").EnumerateArray().Select(e => e.GetString()));
    }

    /// <summary>On loopback with RequireToken, a request without a token gets 401 whose challenge points at the metadata.</summary>
    [Fact]
    [Trait("Issue14", "2")]
    public async Task Request_WithoutToken_RequireToken_Gets401WithResourceMetadata()
    {
        await using var fixture = await Fixture.StartAsync();

        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Gateway.Url + "/mcp") { Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await fixture.Gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith("Bearer ", challenge, StringComparison.Ordinal);
        Assert.Contains($"resource_metadata=\"{fixture.Gateway.Url}/.well-known/oauth-protected-resource\"", challenge, StringComparison.Ordinal);
    }

    /// <summary>A token the issuer granted for this gateway (client credentials, resource indicator) lists and calls tools, over REST and MCP.</summary>
    [Fact]
    [Trait("Issue14", "2")]
    public async Task ValidToken_FromIssuer_ListsAndCallsTools()
    {
        await using var fixture = await Fixture.StartAsync();
        var token = await fixture.Server.ClientCredentialsTokenAsync(fixture.Gateway.Url, "tools:list", "tools:call");

        var list = await fixture.Gateway.GetAsync("/mcp/tools/list", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));
        await using var client = await fixture.Gateway.ConnectAsync(headers: new Dictionary<string, string> { ["Authorization"] = "Bearer " + token });
        var result = await client.CallToolAsync(Tool, new Dictionary<string, object?> { ["text"] = "hi" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, list.Status);
        Assert.Contains(Tool, list.Body, StringComparison.Ordinal);
        Assert.NotEqual(true, result.IsError);
        await client.DisposeAsync();
        await fixture.StopGatewayAsync(); // the audit log is complete once the gateway stopped
        var audit = await File.ReadAllTextAsync(fixture.Env.AuditPath, TestContext.Current.CancellationToken);
        Assert.Contains("token:oauth:mmcp-test-service", audit, StringComparison.Ordinal);
        Assert.DoesNotContain(token, audit, StringComparison.Ordinal);
    }

    /// <summary>A valid token with tools:list only lists but cannot call: 403 insufficient_scope with a step-up challenge on REST, an error on MCP.</summary>
    [Fact]
    [Trait("Issue14", "2")]
    public async Task ValidToken_ListScopeOnly_CannotCall()
    {
        await using var fixture = await Fixture.StartAsync();
        var token = await fixture.Server.ClientCredentialsTokenAsync(fixture.Gateway.Url, "tools:list");
        var bearer = new AuthenticationHeaderValue("Bearer", token);

        var list = await fixture.Gateway.GetAsync("/mcp/tools/list", r => r.Headers.Authorization = bearer);
        using var call = new HttpRequestMessage(HttpMethod.Post, fixture.Gateway.Url + "/mcp/tools/call") { Content = new StringContent($$$"""{"name":"{{{Tool}}}","arguments":{"text":"x"}}""", Encoding.UTF8, "application/json") };
        call.Headers.Authorization = bearer;
        using var refused = await fixture.Gateway.Http.SendAsync(call, TestContext.Current.CancellationToken);
        await using var client = await fixture.Gateway.ConnectAsync(headers: new Dictionary<string, string> { ["Authorization"] = "Bearer " + token });
        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var mcpCall = await Assert.ThrowsAnyAsync<Exception>(async () => await client.CallToolAsync(Tool, new Dictionary<string, object?> { ["text"] = "x" }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.OK, list.Status);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var challenge = refused.Headers.WwwAuthenticate.ToString();
        Assert.Contains("error=\"insufficient_scope\"", challenge, StringComparison.Ordinal);
        Assert.Contains("scope=\"tools:call\"", challenge, StringComparison.Ordinal);
        Assert.Contains(tools, t => t.Name == Tool);
        Assert.Contains("tools:call", mcpCall.Message, StringComparison.Ordinal);
    }

    /// <summary>Forged, expired, foreign-audience, foreign-issuer, unsigned and HMAC-with-the-public-key tokens each get 401 invalid_token with a message that says what is wrong.</summary>
    [Theory]
    [Trait("Issue14", "2")]
    [InlineData("forged", "does not verify")]
    [InlineData("expired", "expired at")]
    [InlineData("audience", "another resource")]
    [InlineData("issuer", "not issued by")]
    [InlineData("none", "'none'")]
    [InlineData("hmac", "'HS256'")]
    [InlineData("garbage", "neither a gateway token")]
    public async Task BadToken_IsRefusedWith401AndClearError(string kind, string expected)
    {
        await using var fixture = await Fixture.StartAsync();
        var now = DateTimeOffset.UtcNow;
        var token = kind switch
        {
            "forged" => await ForgedAsync(fixture),
            "expired" => await fixture.Server.MintAsync(fixture.Gateway.Url, "tools:list", now.AddHours(-1)),
            "audience" => await fixture.Server.MintAsync("http://127.0.0.1:1/", "tools:list", now.AddHours(1)),
            "issuer" => await fixture.Server.MintAsync(fixture.Gateway.Url, "tools:list", now.AddHours(1), issuer: "http://127.0.0.1:2/"),
            "none" => Unsigned(fixture),
            "hmac" => await HmacWithPublicKeyAsync(fixture),
            _ => "eyJub3QiOiJhIGp3dCJ9.x",
        };

        var (status, body) = await fixture.Gateway.GetAsync("/mcp/tools/list", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));
        using var request = new HttpRequestMessage(HttpMethod.Get, fixture.Gateway.Url + "/mcp/tools/list");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await fixture.Gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("invalid_token", error.GetProperty("code").GetString());
        Assert.Contains(expected, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.Contains("error=\"invalid_token\"", challenge, StringComparison.Ordinal);
        Assert.Contains("resource_metadata=", challenge, StringComparison.Ordinal);
    }

    /// <summary>An issuer over plain http that is not loopback, or an audience without an issuer, fails at startup with a message that says how to fix it.</summary>
    [Theory]
    [Trait("Issue14", "2")]
    [InlineData("http://auth.example.com", null, "must use https")]
    [InlineData("not a url", null, "not an issuer URL")]
    [InlineData(null, "https://tools.example.com", "give the issuer too")]
    public void Options_BadOAuthSettings_FailValidationWithFix(string? issuer, string? audience, string expected)
    {
        var options = new MmcpGatewayOptions { OAuthIssuer = issuer, OAuthAudience = audience };

        var problems = options.Validate();

        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    /// <summary>Loopback issuers over http and https issuers pass validation.</summary>
    [Theory]
    [Trait("Issue14", "2")]
    [InlineData("http://127.0.0.1:5000/")]
    [InlineData("http://localhost:5000")]
    [InlineData("http://[::1]:5000")]
    [InlineData("https://login.example.com/realms/main")]
    public void Options_HttpsOrLoopbackIssuer_IsValid(string issuer)
    {
        Assert.Empty(new MmcpGatewayOptions { OAuthIssuer = issuer }.Validate());
    }

    private static async Task<string> ForgedAsync(Fixture fixture)
    {
        // Same claims and key id as the issuer's, signed with another RSA key.
        var kid = (await FirstJwkAsync(fixture)).GetProperty("kid").GetString();
        using var rsa = RSA.Create(2048);
        var descriptor = Claims(fixture);
        descriptor.SigningCredentials = new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = kid }, SecurityAlgorithms.RsaSha256);
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private static string Unsigned(Fixture fixture)
    {
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"at+jwt"}""");
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var payload = Base64UrlEncoder.Encode($$$"""{"iss":"{{{fixture.Issuer.AbsoluteUri}}}","aud":"{{{fixture.Gateway.Url}}}","sub":"mallory","scope":"tools:list tools:call","exp":{{{exp}}}}""");
        return $"{header}.{payload}.";
    }

    private static async Task<string> HmacWithPublicKeyAsync(Fixture fixture)
    {
        // The key-confusion attack: HS256 keyed with the issuer's public key material, which anyone can download.
        var jwk = await FirstJwkAsync(fixture);
        var descriptor = Claims(fixture);
        descriptor.SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Base64UrlEncoder.DecodeBytes(jwk.GetProperty("n").GetString())) { KeyId = jwk.GetProperty("kid").GetString() }, SecurityAlgorithms.HmacSha256);
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private static SecurityTokenDescriptor Claims(Fixture fixture) => new()
    {
        Issuer = fixture.Issuer.AbsoluteUri,
        Audience = fixture.Gateway.Url,
        Expires = DateTime.UtcNow.AddHours(1),
        TokenType = "at+jwt",
        Claims = new Dictionary<string, object> { ["sub"] = "mallory", ["scope"] = "tools:list tools:call" },
    };

    private static async Task<JsonElement> FirstJwkAsync(Fixture fixture) =>
        JsonDocument.Parse((await fixture.Server.JwksAsync()).ToJsonString()).RootElement.GetProperty("keys")[0].Clone();

    /// <summary>The issuer and a gateway (RequireToken, on loopback) that accepts its tokens, over the test server.</summary>
    private sealed class Fixture : IAsyncDisposable
    {
        private Fixture(TestEnvironment env, OAuthIssuerProcess server, GatewayHost gateway)
        {
            Env = env;
            Server = server;
            Gateway = gateway;
        }

        public TestEnvironment Env { get; }

        public OAuthIssuerProcess Server { get; }

        public GatewayHost Gateway { get; }

        public Uri Issuer => Server.Issuer;

        public static async Task<Fixture> StartAsync()
        {
            var env = new TestEnvironment();
            await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
            var server = await OAuthIssuerProcess.StartAsync();
            var gateway = await GatewayHost.StartAsync(env, o =>
            {
                o.RequireToken = true;
                o.OAuthIssuer = server.Issuer.AbsoluteUri;
            });
            return new Fixture(env, server, gateway);
        }

        private bool _gatewayStopped;

        public async Task StopGatewayAsync()
        {
            _gatewayStopped = true;
            await Gateway.DisposeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (!_gatewayStopped)
            {
                await Gateway.DisposeAsync();
            }

            await Server.DisposeAsync();
            Env.Dispose();
        }
    }
}
