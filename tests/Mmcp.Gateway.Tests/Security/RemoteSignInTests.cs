using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Mmcp.Client;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Tests.Security;

/// <summary>
/// The hub as an OAuth 2.1 client (issue 14, part 1): <c>mmcp auth login</c> against real remote servers — <c>mmcp
/// serve --oauth-issuer</c> with the OpenIddict test issuer, and the MCP TypeScript SDK's OAuth example server — then
/// the hub's background connections with the stored sign-in (refresh, revocation, step-up, wrong audience).
/// </summary>
[Trait("Speed", "slow")]
public sealed partial class RemoteSignInTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string RemoteId = "io.test.remote";

    private static string Mmcp => Path.Combine(AppContext.BaseDirectory, "mmcp.dll");

    /// <summary>
    /// Before sign-in a call fails with exit 9 and the command to run; <c>mmcp auth login</c> completes through a real
    /// browser consent; the hub then calls a tool, refreshes an expired access token silently, and after the issuer
    /// revokes every grant asks the user to sign in again; logout deletes the tokens; no token appears in any output,
    /// log or audit file.
    /// </summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task AuthLogin_BrowserConsent_HubCallsRefreshesSilently_AsksAgainAfterRevoke_TokensNeverLogged()
    {
        Assert.SkipUnless(File.Exists(Chromium), "Debian's chromium is not installed (eng/install-deps.sh installs it).");
        await using var remote = await Remote.StartAsync();
        var outputs = new List<string>();

        // 1. No sign-in yet: a clear message and exit code 9, and no browser.
        var before = await remote.MmcpAsync("call", RemoteId, "io_test_alpha__echo", "--args", """{"text":"hi"}""");
        outputs.Add(before.Stdout + before.Stderr);
        Assert.True(before.ExitCode == 9, before.Stdout + before.Stderr);
        Assert.Contains($"needs you to sign in: run `mmcp auth login {RemoteId}`", before.Stderr, StringComparison.Ordinal);

        // 2. Sign in: the consent page in Chromium, the loopback redirect back to mmcp.
        await using (var login = remote.StartLogin())
        {
            var url = await remote.AuthorizationUrlAsync(login);
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                Timeout = (float)TestTimeouts.Default.TotalMilliseconds,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            });
            var page = await browser.NewPageAsync();
            page.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
            await page.GotoAsync(url);
            await page.ClickAsync("#approve");
            await page.WaitForSelectorAsync("#done");
            await login.WaitForLineAsync(l => l.StartsWith($"Signed in to '{RemoteId}'", StringComparison.Ordinal));
            outputs.Add(login.Output);
        }

        var tokens = new HashSet<string>(StringComparer.Ordinal);
        var stored = remote.ReadTokens(tokens);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(remote.TokenFile));
        Assert.Contains("tools:call", (string?)stored["scope"] ?? string.Empty, StringComparison.Ordinal);

        var status = await remote.MmcpAsync("auth", "status", RemoteId, "--json");
        outputs.Add(status.Stdout + status.Stderr);
        Assert.True(status.ExitCode == 0, status.Stdout + status.Stderr);
        Assert.True(JsonNode.Parse(status.Stdout)!["servers"]![0]!["signedIn"]!.GetValue<bool>(), status.Stdout);

        // 3. The hub (no browser) calls a tool with the stored sign-in.
        await using (var hub = remote.CreateHub())
        {
            var result = await hub.CallToolAsync(RemoteId, "io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "hi" }, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal("echo: hi", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }

        // 4. An expired access token is refreshed silently (new access token, rotated refresh token).
        await remote.Issuer.SetAsync(accessTokenLifetime: TimeSpan.FromMinutes(10));
        remote.AgeAccessToken();
        await using (var hub = remote.CreateHub())
        {
            var result = await hub.CallToolAsync(RemoteId, "io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "again" }, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal("echo: again", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }

        var refreshed = remote.ReadTokens(tokens);
        Assert.NotEqual((string?)stored["accessToken"], (string?)refreshed["accessToken"]);
        Assert.NotEqual((string?)stored["refreshToken"], (string?)refreshed["refreshToken"]);

        // 5. The issuer revokes every grant: the refresh is refused and the hub asks the user to sign in again.
        await remote.Issuer.RevokeAllAsync();
        remote.AgeAccessToken();
        await using (var hub = remote.CreateHub())
        {
            var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync(RemoteId, "io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "x" }, cancellationToken: TestContext.Current.CancellationToken).AsTask());
            Assert.Equal(HubErrorCode.SignInRequired, error.Code);
            Assert.Contains($"needs you to sign in again (your sign-in expired or was revoked): run `mmcp auth login {RemoteId}`", error.Message, StringComparison.Ordinal);
        }

        var revoked = await remote.MmcpAsync("call", RemoteId, "io_test_alpha__echo", "--args", """{"text":"hi"}""");
        outputs.Add(revoked.Stdout + revoked.Stderr);
        Assert.True(revoked.ExitCode == 9, revoked.Stdout + revoked.Stderr);
        Assert.Contains("sign in again", revoked.Stderr, StringComparison.Ordinal);

        // 6. Logout deletes the tokens.
        var logout = await remote.MmcpAsync("auth", "logout", RemoteId, "--json");
        outputs.Add(logout.Stdout + logout.Stderr);
        Assert.True(logout.ExitCode == 0, logout.Stdout + logout.Stderr);
        Assert.Empty(Directory.GetFiles(Path.Combine(remote.HubEnv.ConfigDirectory, "mmcp", "oauth"), "*.json"));
        var after = await remote.MmcpAsync("auth", "status", RemoteId);
        Assert.Equal(9, after.ExitCode);

        var (serveOutput, audit) = await remote.StopGatewayAsync();
        Assert.NotEmpty(tokens);
        foreach (var token in tokens)
        {
            Assert.DoesNotContain(token, serveOutput, StringComparison.Ordinal);
            Assert.DoesNotContain(token, audit, StringComparison.Ordinal);
            Assert.All(outputs, o => Assert.DoesNotContain(token, o, StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// A sign-in granting only <c>tools:list</c>: the hub's call needs <c>tools:call</c> (403 insufficient_scope) and
    /// fails naming that scope and the command; <c>mmcp auth login --scope tools:call</c> adds it and the call works.
    /// A stored token for another audience is refused by the server and the hub asks for a new sign-in.
    /// </summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task HubCall_NeedsScopeTheSignInLacks_NamesScope_StepUpLoginFixes_WrongAudienceRefused()
    {
        await using var remote = await Remote.StartAsync();
        await remote.Issuer.SetAsync(autoApprove: true);

        await remote.LoginWithoutBrowserAsync("--scope", "tools:list");
        await using (var hub = remote.CreateHub())
        {
            var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync(RemoteId, "io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "x" }, cancellationToken: TestContext.Current.CancellationToken).AsTask());
            Assert.True(error.Code == HubErrorCode.SignInRequired, error.ToString());
            Assert.Contains("needs the scope 'tools:call'", error.Message, StringComparison.Ordinal);
            Assert.Contains($"run `mmcp auth login {RemoteId} --scope tools:call`", error.Message, StringComparison.Ordinal);
        }

        await remote.LoginWithoutBrowserAsync("--scope", "tools:call");
        var scopes = (string?)remote.ReadTokens(new HashSet<string>())["scope"] ?? string.Empty;
        Assert.Contains("tools:list", scopes, StringComparison.Ordinal);
        Assert.Contains("tools:call", scopes, StringComparison.Ordinal);
        await using (var hub = remote.CreateHub())
        {
            var result = await hub.CallToolAsync(RemoteId, "io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "up" }, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal("echo: up", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }

        // A token the issuer signed for another resource (and no refresh token): refused, so a new sign-in is asked for.
        var foreign = await remote.Issuer.MintAsync("http://127.0.0.1:9/elsewhere", "tools:list tools:call", TimeProvider.System.GetUtcNow().AddHours(1));
        remote.ReplaceAccessToken(foreign);
        await using (var hub = remote.CreateHub())
        {
            var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync(RemoteId, "io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "x" }, cancellationToken: TestContext.Current.CancellationToken).AsTask());
            Assert.Equal(HubErrorCode.SignInRequired, error.Code);
            Assert.Contains($"run `mmcp auth login {RemoteId}`", error.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>The MCP TypeScript SDK's OAuth example server (its own demo authorization server, strict resource check) as an independent remote: sign-in, then the hub lists and calls its tools.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task AuthLogin_TypeScriptSdkOAuthExampleServer_HubCallsItsTool()
    {
        var script = Path.Combine(Servers.NpmPackage("@modelcontextprotocol/sdk"), "dist", "esm", "examples", "server", "simpleStreamableHttp.js");
        Assert.SkipUnless(File.Exists(script), "The MCP TypeScript SDK is not installed (eng/npm).");
        using var env = new TestEnvironment();
        var mcpPort = FreePort();
        var authPort = FreePort();
        await using var server = ChildProcess.Start("node", [script, "--oauth", "--oauth-strict"], new Dictionary<string, string> { ["MCP_PORT"] = mcpPort.ToString(CultureInfo.InvariantCulture), ["MCP_AUTH_PORT"] = authPort.ToString(CultureInfo.InvariantCulture) });
        await server.WaitForLineAsync(l => l.Contains($"listening on port {mcpPort}", StringComparison.Ordinal));
        await server.WaitForLineAsync(l => l.Contains($"listening on port {authPort}", StringComparison.Ordinal));
        await env.WriteManifestAsync(Servers.Manifest("io.test.tsremote", new HttpTransport { Url = new Uri($"http://localhost:{mcpPort}/mcp") }));

        await using (var login = ChildProcess.Start("dotnet", [Mmcp, "auth", "login", "io.test.tsremote", "--no-browser"], env.Variables))
        {
            var url = (await login.WaitForLineAsync(l => l.StartsWith($"http://localhost:{authPort}/", StringComparison.Ordinal))).Trim();
            await FollowAsync(url); // the demo server approves at once and redirects to mmcp's loopback
            await login.WaitForLineAsync(l => l.StartsWith("Signed in to 'io.test.tsremote'", StringComparison.Ordinal));
        }

        await using var hub = MmcpHub.Create(new MmcpHubOptions { Registry = new RegistryOptions { Environment = env.Environment, ImportClientConfigs = false }, CallTimeout = TestTimeouts.Default });
        var tools = await hub.ListToolsAsync("io.test.tsremote", TestContext.Current.CancellationToken);
        Assert.Contains(tools.Tools, t => t.ToolName == "greet");
        var result = await hub.CallToolAsync("io.test.tsremote", "greet", new Dictionary<string, object?> { ["name"] = "mmcp" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains("mmcp", Assert.IsType<TextContentBlock>(result.Content[0]).Text, StringComparison.Ordinal);
    }

    /// <summary>A server whose protected resource metadata names another host as the resource is refused at sign-in, with a clear error (exit 9), before any browser step.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task AuthLogin_MetadataNamesAnotherHost_RefusedWithClearError()
    {
        using var env = new TestEnvironment();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.MapGet("/.well-known/oauth-protected-resource/mcp", (HttpContext c) => Results.Json(new { resource = "http://evil.example/mcp", authorization_servers = new[] { "http://evil.example/" } }));
        app.MapPost("/mcp", (HttpContext c) =>
        {
            c.Response.Headers.WWWAuthenticate = $"Bearer resource_metadata=\"http://{c.Request.Host}/.well-known/oauth-protected-resource/mcp\"";
            return Results.StatusCode(401);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        await env.WriteManifestAsync(Servers.Manifest("io.test.liar", new HttpTransport { Url = new Uri(url + "/mcp") }));

        var (exitCode, stdout, stderr) = await Run.ProcessAsync("dotnet", [Mmcp, "auth", "login", "io.test.liar", "--no-browser"], env.Variables);
        Assert.True(exitCode == 9, stdout + stderr);
        Assert.Contains("The sign-in to 'io.test.liar' failed", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example/authorize", stderr, StringComparison.Ordinal);
    }

    /// <summary>Header values from the environment or the stored inputs reach the server but are never printed: not by <c>mmcp servers</c> (JSON or table), not in verbose logs of a call.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task StaticHeaderSecrets_FromEnvironment_UsedButNeverPrinted()
    {
        await using var remote = await Remote.StartAsync();
        var (created, secret, _) = await Run.ProcessAsync("dotnet", [Mmcp, "token", "create", "--scope", "tools:call", "--scope", "tools:list"], remote.GatewayVariables);
        Assert.Equal(0, created);
        secret = secret.Trim();
        await remote.HubEnv.WriteManifestAsync(Servers.Manifest(RemoteId, new HttpTransport
        {
            Url = new Uri(remote.Url + "/mcp"),
            Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Authorization"] = "Bearer ${env:REMOTE_TOKEN}", ["X-Extra"] = "literal-header-secret" },
        }));
        var variables = new Dictionary<string, string>(remote.HubEnv.Variables) { ["REMOTE_TOKEN"] = secret };

        var call = await Run.ProcessAsync("dotnet", [Mmcp, "call", RemoteId, "io_test_alpha__echo", "--args", """{"text":"static"}""", "-v"], variables);
        Assert.True(call.ExitCode == 0, call.Stdout + call.Stderr);
        Assert.Contains("echo: static", call.Stdout, StringComparison.Ordinal);
        var json = await Run.ProcessAsync("dotnet", [Mmcp, "servers", "--json", "--all"], variables);
        var table = await Run.ProcessAsync("dotnet", [Mmcp, "servers", "--check", "-v"], variables);
        foreach (var output in new[] { call.Stdout + call.Stderr, json.Stdout + json.Stderr, table.Stdout + table.Stderr })
        {
            Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
            Assert.DoesNotContain("literal-header-secret", output, StringComparison.Ordinal);
        }

        Assert.Contains("${env:REMOTE_TOKEN}", json.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(remote.HubEnv.ConfigDirectory, "mmcp", "oauth")), "a server with its own Authorization header is not signed in with OAuth");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Follows an authorization URL the way a browser would (redirects included) when the server approves without a page.</summary>
    private static async Task FollowAsync(string url)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = true }) { Timeout = TestTimeouts.Default };
        using var response = await http.GetAsync(new Uri(url), TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode && body.Contains("id=\"done\"", StringComparison.Ordinal), $"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {body}");
    }

    /// <summary><c>mmcp serve --oauth-issuer</c> (with the test server behind it) and the hub's sandbox that reaches it as <see cref="RemoteId"/>.</summary>
    private sealed partial class Remote : IAsyncDisposable
    {
        private readonly TestEnvironment _gatewayEnv;
        private ChildProcess? _serve;

        private Remote(TestEnvironment gatewayEnv, TestEnvironment hubEnv, OAuthIssuerProcess issuer, ChildProcess serve, string url)
        {
            _gatewayEnv = gatewayEnv;
            HubEnv = hubEnv;
            Issuer = issuer;
            _serve = serve;
            Url = url;
        }

        public TestEnvironment HubEnv { get; }

        public OAuthIssuerProcess Issuer { get; }

        public string Url { get; }

        public IReadOnlyDictionary<string, string> GatewayVariables => _gatewayEnv.Variables;

        public string TokenFile => Directory.GetFiles(Path.Combine(HubEnv.ConfigDirectory, "mmcp", "oauth"), "*.json").Single();

        public static async Task<Remote> StartAsync()
        {
            var gatewayEnv = new TestEnvironment();
            var hubEnv = new TestEnvironment();
            await gatewayEnv.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
            var issuer = await OAuthIssuerProcess.StartAsync();
            var serve = ChildProcess.Start("dotnet", [Mmcp, "serve", "--port", "0", "--no-import", "--require-token", "--oauth-issuer", issuer.Issuer.AbsoluteUri, "--verbose"], gatewayEnv.Variables);
            var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;
            await hubEnv.WriteManifestAsync(Servers.Manifest(RemoteId, new HttpTransport { Url = new Uri(url + "/mcp") }));
            return new Remote(gatewayEnv, hubEnv, issuer, serve, url);
        }

        public Task<(int ExitCode, string Stdout, string Stderr)> MmcpAsync(params string[] args) => Run.ProcessAsync("dotnet", [Mmcp, .. args], HubEnv.Variables);

        public ChildProcess StartLogin(params string[] extra) => ChildProcess.Start("dotnet", [Mmcp, "auth", "login", RemoteId, "--no-browser", .. extra], HubEnv.Variables);

        public async Task<string> AuthorizationUrlAsync(ChildProcess login) =>
            (await login.WaitForLineAsync(l => l.StartsWith(Issuer.Issuer.AbsoluteUri, StringComparison.Ordinal))).Trim();

        /// <summary>A sign-in with the issuer approving at once (auto_approve): the URL is followed without a browser.</summary>
        public async Task LoginWithoutBrowserAsync(params string[] extra)
        {
            await using var login = StartLogin(extra);
            await FollowAsync(await AuthorizationUrlAsync(login));
            await login.WaitForLineAsync(l => l.StartsWith($"Signed in to '{RemoteId}'", StringComparison.Ordinal));
        }

        public MmcpHub CreateHub() => MmcpHub.Create(new MmcpHubOptions { Registry = new RegistryOptions { Environment = HubEnv.Environment, ImportClientConfigs = false }, CallTimeout = TestTimeouts.Default });

        /// <summary>The stored tokens (the file's <c>tokens</c> object), adding the secrets to <paramref name="seen"/>.</summary>
        public JsonObject ReadTokens(ISet<string> seen)
        {
            var tokens = JsonNode.Parse(File.ReadAllText(TokenFile))!["tokens"]!.AsObject();
            foreach (var name in new[] { "accessToken", "refreshToken" })
            {
                if ((string?)tokens[name] is { Length: > 0 } value)
                {
                    seen.Add(value);
                }
            }

            return tokens;
        }

        /// <summary>Makes the stored access token look obtained long ago, so the hub sees it expired (the issuer's own expiry is not waited for).</summary>
        public void AgeAccessToken() => Edit(t => t["obtainedAt"] = TimeProvider.System.GetUtcNow().AddDays(-1).ToString("O", CultureInfo.InvariantCulture));

        public void ReplaceAccessToken(string token) => Edit(t =>
        {
            t["accessToken"] = token;
            t["refreshToken"] = null;
            t["obtainedAt"] = TimeProvider.System.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        });

        public async Task<(string ServeOutput, string Audit)> StopGatewayAsync()
        {
            var serve = _serve!;
            _serve = null;
            using (var process = Process.GetProcessById(serve.Id))
            {
                // A graceful stop (SIGTERM) writes the rest of the audit log.
                using var term = Process.Start("kill", ["-TERM", serve.Id.ToString(CultureInfo.InvariantCulture)]);
                await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
            }

            var output = serve.Output;
            await serve.DisposeAsync();
            return (output, File.Exists(_gatewayEnv.AuditPath) ? await File.ReadAllTextAsync(_gatewayEnv.AuditPath, TestContext.Current.CancellationToken) : string.Empty);
        }

        public async ValueTask DisposeAsync()
        {
            if (_serve is not null)
            {
                await _serve.DisposeAsync();
            }

            await Issuer.DisposeAsync();
            _gatewayEnv.Dispose();
            HubEnv.Dispose();
        }

        private void Edit(Action<JsonObject> change)
        {
            var file = JsonNode.Parse(File.ReadAllText(TokenFile))!.AsObject();
            change(file["tokens"]!.AsObject());
            File.WriteAllText(TokenFile, file.ToJsonString());
        }

        [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
        private static partial Regex UrlPattern();
    }
}
