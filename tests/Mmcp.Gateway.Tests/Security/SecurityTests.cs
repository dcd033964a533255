using System.Net;
using System.Net.Http.Headers;
using Mmcp.Client.Consent;
using Mmcp.Gateway.Security;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Tests.Security;

/// <summary>DNS-rebinding protection, tokens and scopes, consent, and hostile request bodies, on a real Kestrel.</summary>
public sealed class SecurityTests
{
    private const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""";

    [Theory]
    [InlineData("/mcp")]
    [InlineData("/mcp/tools/list")]
    [InlineData("/mcp/tools/call")]
    [InlineData("/servers/io.test.alpha/mcp")]
    public async Task ForgedHost_IsRefusedWith403(string path)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);

        var (status, body) = await gateway.PostJsonAsync(path, Initialize, r => r.Headers.Host = "evil.example.com");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("forbidden_host", body, StringComparison.Ordinal);
    }

    /// <summary>An allowed host that no Host header could match is refused at startup (regression: 'myhost:7392' and
    /// 'a b' were accepted and then silently matched nothing, since the header is compared without its port).</summary>
    [Theory]
    [InlineData("myhost:7392")]
    [InlineData("a b")]
    [InlineData("fd00::1")]
    [InlineData("[not-v6]")]
    [InlineData("http://myhost")]
    [InlineData("*.lan")]
    public void Options_AllowedHostNoHostHeaderCanMatch_FailsValidationWithFix(string host)
    {
        var problems = new MmcpGatewayOptions { AllowedHosts = { host } }.Validate();

        Assert.Contains(problems, p => p.Contains($"'{host}'", StringComparison.Ordinal) && p.Contains("without scheme, port or wildcard", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("myhost.lan")]
    [InlineData("192.168.1.20")]
    [InlineData("[fd00::1]")]
    public void Options_AllowedHostNameOrAddress_PassesValidation(string host) =>
        Assert.Empty(new MmcpGatewayOptions { AllowedHosts = { host } }.Validate());

    /// <summary>An allowed host name is accepted in the Host header with any port.</summary>
    [Fact]
    public async Task AllowedHost_WithThePortInTheHeader_IsAccepted()
    {
        using var env = new TestEnvironment();
        await using var gateway = await GatewayHost.StartAsync(env, o => o.AllowedHosts.Add("myhost.lan"));

        var (status, _) = await gateway.GetAsync("/health", r => r.Headers.Host = "MyHost.lan:7392");

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/openapi.json")]
    [InlineData("/mcp/tools/list")]
    public async Task ForgedHost_OnGetRoutes_IsRefusedWith403(string path)
    {
        using var env = new TestEnvironment();
        await using var gateway = await GatewayHost.StartAsync(env);

        var (status, body) = await gateway.GetAsync(path, r => r.Headers.Host = "attacker.example:7379");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("forbidden_host", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://evil.example.com")]
    [InlineData("null")]
    [InlineData("http://127.0.0.1.evil.example.com")]
    [InlineData("http://localhost:1")]
    public async Task ForeignOrNullOrigin_IsRefusedWith403(string origin)
    {
        using var env = new TestEnvironment();
        await using var gateway = await GatewayHost.StartAsync(env);

        var (status, body) = await gateway.PostJsonAsync("/mcp", Initialize, r => r.Headers.Add("Origin", origin));

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("forbidden_origin", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SameOriginAndAllowedOrigin_AreServed()
    {
        using var env = new TestEnvironment();
        await using var gateway = await GatewayHost.StartAsync(env, o => o.AllowedOrigins.Add("http://localhost:3000"));

        var same = await gateway.PostJsonAsync("/mcp", Initialize, r => r.Headers.Add("Origin", gateway.Url));
        var allowed = await gateway.PostJsonAsync("/mcp", Initialize, r => r.Headers.Add("Origin", "http://localhost:3000"));

        Assert.Equal(HttpStatusCode.OK, same.Status);
        Assert.Equal(HttpStatusCode.OK, allowed.Status);
    }

    [Theory]
    [InlineData("/mcp")]
    [InlineData("/mcp/tools/call")]
    [InlineData("/servers/io.test.alpha/mcp")]
    public async Task CorsPreflight_AnsweredOnlyForAllowedOrigins_AndResponsesCarryTheHeaders(string path)
    {
        using var env = new TestEnvironment();
        await using var gateway = await GatewayHost.StartAsync(env, o => o.AllowedOrigins.Add("http://localhost:3000"));
        var ct = TestContext.Current.CancellationToken;
        HttpRequestMessage Preflight(string origin) => new(HttpMethod.Options, gateway.Url + path)
        {
            Headers = { { "Origin", origin }, { "Access-Control-Request-Method", "POST" }, { "Access-Control-Request-Headers", "content-type, mcp-protocol-version" } },
        };

        using var allowed = await gateway.Http.SendAsync(Preflight("http://localhost:3000"), ct);
        using var foreign = await gateway.Http.SendAsync(Preflight("https://evil.example"), ct);
        var served = await gateway.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, gateway.Url + "/mcp")
        {
            Content = new StringContent(Initialize, System.Text.Encoding.UTF8, "application/json"),
            Headers = { { "Origin", "http://localhost:3000" }, { "Accept", "application/json, text/event-stream" } },
        }, ct);

        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal("http://localhost:3000", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", allowed.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Contains("Mcp-Protocol-Version", allowed.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.False(foreign.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("http://localhost:3000", served.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("Mcp-Session-Id", served.Headers.GetValues("Access-Control-Expose-Headers").Single(), StringComparison.Ordinal);
        served.Dispose();
    }

    [Fact]
    public async Task BeyondLoopback_TokensAndScopesAreRequired()
    {
        // 127.0.0.2 is not 127.0.0.1 or ::1: the gateway treats it as bound beyond loopback.
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, address: IPAddress.Parse("127.0.0.2"));
        var (_, listOnly) = await gateway.Tokens.CreateAsync("lister", [GatewayScopes.ToolsList], cancellationToken: TestContext.Current.CancellationToken);
        var (_, caller) = await gateway.Tokens.CreateAsync("caller", [GatewayScopes.ToolsList, GatewayScopes.ToolsCall], cancellationToken: TestContext.Current.CancellationToken);
        const string Call = """{"name":"io_test_alpha__echo","arguments":{"text":"hi"}}""";

        var missing = await gateway.PostJsonAsync("/mcp/tools/call", Call);
        var wrong = await gateway.PostJsonAsync("/mcp/tools/call", Call, Bearer("mmcp_not-a-real-token"));
        var insufficient = await gateway.PostJsonAsync("/mcp/tools/call", Call, Bearer(listOnly));
        var ok = await gateway.PostJsonAsync("/mcp/tools/call", Call, Bearer(caller));
        var mcpMissing = await gateway.PostJsonAsync("/mcp", Initialize);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Equal(HttpStatusCode.Forbidden, insufficient.Status);
        Assert.Contains("insufficient_scope", insufficient.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.Contains("echo: hi", ok.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, mcpMissing.Status);

        // Revocation takes effect at once.
        await gateway.Tokens.RevokeAsync("caller", TestContext.Current.CancellationToken);
        var revoked = await gateway.PostJsonAsync("/mcp/tools/call", Call, Bearer(caller));
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.Status);
    }

    /// <summary>On loopback with --require-token, the 401 says that the option asks for the token (regression: it said
    /// the gateway was "reachable beyond loopback", which it is not).</summary>
    [Fact]
    public async Task RequireToken_OnLoopbackWithoutToken_SaysTheOptionAsksForIt()
    {
        using var env = new TestEnvironment();
        await using var gateway = await GatewayHost.StartAsync(env, o => o.RequireToken = true);

        var (status, body) = await gateway.PostJsonAsync("/mcp", Initialize);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("requires a token on every request (--require-token", body, StringComparison.Ordinal);
        Assert.DoesNotContain("beyond loopback", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpScopes_AreEnforcedPerMethod()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.RequireToken = true);
        var (_, listOnly) = await gateway.Tokens.CreateAsync("lister", [GatewayScopes.ToolsList], cancellationToken: TestContext.Current.CancellationToken);
        await using var client = await gateway.ConnectAsync(protocolVersion: "2025-11-25", headers: new Dictionary<string, string> { ["Authorization"] = "Bearer " + listOnly });

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "x" }, cancellationToken: TestContext.Current.CancellationToken).AsTask());

        Assert.NotEmpty(tools);
        Assert.Contains("tools:call", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("access_token")]
    [InlineData("token")]
    [InlineData("api_key")]
    public async Task TokenInQueryString_IsNeverAccepted(string name)
    {
        using var env = new TestEnvironment();
        await using var gateway = await GatewayHost.StartAsync(env, o => o.RequireToken = true);
        var (_, secret) = await gateway.Tokens.CreateAsync("t", [GatewayScopes.All], cancellationToken: TestContext.Current.CancellationToken);

        var (status, body) = await gateway.GetAsync($"/mcp/tools/list?{name}={secret}");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("token_in_query", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenStore_KeepsOnlyHashes_InAPrivateFile()
    {
        using var env = new TestEnvironment();
        var store = new TokenStore(env.TokenPath);

        var (token, secret) = await store.CreateAsync("t", [GatewayScopes.ToolsCall], cancellationToken: TestContext.Current.CancellationToken);
        var text = await File.ReadAllTextAsync(env.TokenPath, TestContext.Current.CancellationToken);

        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(env.TokenPath));
        Assert.Equal(token.Id, store.Validate(secret)?.Id);
        Assert.Null(store.Validate(secret + "x"));
        await Assert.ThrowsAsync<ArgumentException>(() => store.CreateAsync("t", ["tools:everything"], cancellationToken: TestContext.Current.CancellationToken));
    }

    /// <summary>
    /// Another process replaces a token (revokes it and creates one of the same size) within one tick of the file
    /// system's clock, so the file keeps its time and its length: a running gateway that read the old file must refuse
    /// the revoked secret (regression: it kept the old tokens until the file changed again).
    /// </summary>
    [Fact]
    [Trait("Leftovers", "stamp")]
    public async Task TokenStore_ARevocationThatKeepsTheFilesTimeAndLength_IsSeen()
    {
        using var env = new TestEnvironment();
        var ct = TestContext.Current.CancellationToken;
        var tick = TimeProvider.System.GetUtcNow().UtcDateTime.AddMinutes(1); // ahead of the clock: the reads fall within it
        var (_, secret) = await new TokenStore(env.TokenPath).CreateAsync("t", [GatewayScopes.ToolsCall], cancellationToken: ct);
        File.SetLastWriteTimeUtc(env.TokenPath, tick);
        var gateway = new TokenStore(env.TokenPath);
        Assert.NotNull(gateway.Validate(secret));

        var text = await File.ReadAllTextAsync(env.TokenPath, ct);
        var hash = System.Text.RegularExpressions.Regex.Match(text, "\"hash\"\\s*:\\s*\"([0-9a-f]{64})\"").Groups[1].Value;
        Assert.Equal(64, hash.Length);
        await File.WriteAllTextAsync(env.TokenPath, text.Replace(hash, new string('0', 64), StringComparison.Ordinal), ct);
        File.SetLastWriteTimeUtc(env.TokenPath, tick);

        Assert.Null(gateway.Validate(secret));
    }

    [Fact]
    public async Task DeniedTool_IsHiddenAndRefused_OnEveryFace()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await gateway.Consent.SetToolAsync("io.test.alpha", "add", ConsentDecision.Deny, cancellationToken: TestContext.Current.CancellationToken);
        await using var client = await gateway.ConnectAsync(protocolVersion: "2025-11-25");
        var ct = TestContext.Current.CancellationToken;

        var tools = await client.ListToolsAsync(cancellationToken: ct);
        var mcp = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("io_test_alpha__add", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: ct).AsTask());
        var rest = await gateway.PostJsonAsync("/mcp/tools/call", """{"server":"io.test.alpha","tool":"add","arguments":{"a":1,"b":2}}""");
        await using var passThrough = await gateway.ConnectAsync("/servers/io.test.alpha/mcp", "2025-11-25");
        var direct = await passThrough.ListToolsAsync(cancellationToken: ct);
        var directCall = await Assert.ThrowsAsync<McpProtocolException>(() => passThrough.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: ct).AsTask());

        Assert.DoesNotContain(tools, t => t.Name == "io_test_alpha__add");
        Assert.Contains(tools, t => t.Name == "io_test_alpha__echo");
        Assert.Contains("mmcp consent allow io.test.alpha add", mcp.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, rest.Status);
        Assert.Contains("ConsentRequired", rest.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(direct, t => t.Name == "add");
        Assert.Contains("denied", directCall.Message, StringComparison.Ordinal);
    }

    /// <summary>A tool denied by another process (`mmcp consent deny`) is refused on the very next call, with no wait for any cache to catch up.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Call_ToolDeniedByAnotherProcessRightAfterACall_IsRefusedAtOnce()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var client = await gateway.ConnectAsync(protocolVersion: "2025-11-25");
        var ct = TestContext.Current.CancellationToken;
        var arguments = new Dictionary<string, object?> { ["text"] = "x" };
        var allowed = await client.CallToolAsync("io_test_alpha__echo", arguments, cancellationToken: ct);

        // Another process's view of the same file, as `mmcp consent deny io.test.alpha echo` has it.
        await new ConsentStore(env.ConsentPath).SetToolAsync("io.test.alpha", "echo", ConsentDecision.Deny, cancellationToken: ct);
        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("io_test_alpha__echo", arguments, cancellationToken: ct).AsTask());
        var rest = await gateway.PostJsonAsync("/mcp/tools/call", """{"server":"io.test.alpha","tool":"echo","arguments":{"text":"x"}}""");

        Assert.Equal("echo: x", ((TextContentBlock)allowed.Content[0]).Text);
        Assert.Contains("mmcp consent allow io.test.alpha echo", refused.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, rest.Status);
    }

    [Fact]
    public async Task ChangedTool_IsHeldUntilApprovedAgain()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var ct = TestContext.Current.CancellationToken;
        var echo = (await gateway.Hub.ListToolsAsync("io.test.alpha", ct)).Tools.Single(t => t.ToolName == "echo").Tool;

        // Approved earlier with another description: the server has since changed the tool ("rug pull").
        await gateway.Consent.SetToolAsync("io.test.alpha", "echo", ConsentDecision.Allow, new Tool { Name = "echo", Description = "Echoes the text back, honestly.", InputSchema = echo.InputSchema }, TestContext.Current.CancellationToken);
        await using var client = await gateway.ConnectAsync();
        var held = await client.ListToolsAsync(cancellationToken: ct);
        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "x" }, cancellationToken: ct).AsTask());

        await gateway.Consent.SetToolAsync("io.test.alpha", "echo", ConsentDecision.Allow, echo, TestContext.Current.CancellationToken);
        var approved = await client.CallToolAsync("io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "x" }, cancellationToken: ct);

        Assert.DoesNotContain(held, t => t.Name == "io_test_alpha__echo");
        Assert.Contains("changed its definition", refused.Message, StringComparison.Ordinal);
        Assert.Contains("mmcp consent allow io.test.alpha echo", refused.Message, StringComparison.Ordinal);
        Assert.Equal("echo: x", ((TextContentBlock)approved.Content[0]).Text);
    }

    [Fact]
    public async Task OversizedBody_Gets413_AndChangesNothing()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.MaxRequestBodyBytes = 64 * 1024);
        var big = new string('x', 200 * 1024);

        var mcp = await gateway.PostJsonAsync("/mcp", $$$"""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"pad":"{{{big}}}"}}""");
        var rest = await gateway.PostJsonAsync("/mcp/tools/call", $$$"""{"name":"io_test_alpha__echo","arguments":{"text":"{{{big}}}"}}""");
        var chunked = await SendChunkedAsync(gateway, "/mcp/tools/call", $$$"""{"name":"io_test_alpha__echo","arguments":{"text":"{{{big}}}"}}""");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, mcp.Status);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, rest.Status);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked);
        Assert.False(File.Exists(env.AuditPath) && (await File.ReadAllTextAsync(env.AuditPath, TestContext.Current.CancellationToken)).Contains("echo", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"jsonrpc":"2.0","id":null,"method":"tools/list"}""")]
    [InlineData("[]")]
    public async Task MalformedJsonRpc_Gets400WithAJsonRpcError(string body)
    {
        using var env = new TestEnvironment();
        await using var gateway = await GatewayHost.StartAsync(env);

        var (status, text) = await gateway.PostJsonAsync("/mcp", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("\"error\"", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{not json", "invalid_json")]
    [InlineData("""{"arguments":{}}""", "bad_request")]
    [InlineData("""{"name":"io_test_alpha__echo","arguments":[1]}""", "bad_request")]
    [InlineData("""{"name":7}""", "bad_request")]
    public async Task MalformedRestCall_Gets400SayingWhatIsWrong(string body, string code)
    {
        using var env = new TestEnvironment();
        await using var gateway = await GatewayHost.StartAsync(env);

        var (status, text) = await gateway.PostJsonAsync("/mcp/tools/call", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(code, text, StringComparison.Ordinal);
    }

    private static Action<HttpRequestMessage> Bearer(string secret) => r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);

    private static async Task<HttpStatusCode> SendChunkedAsync(GatewayHost gateway, string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.Url + path) { Content = new ChunkedContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    private sealed class ChunkedContent(string body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(body);
            for (var i = 0; i < bytes.Length; i += 8192)
            {
                await stream.WriteAsync(bytes.AsMemory(i, Math.Min(8192, bytes.Length - i)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
