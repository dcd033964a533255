using Mmcp.Core.Manifests;

namespace Mmcp.Gateway.Tests.Security;

/// <summary>Issue 14 part 1 leftovers: which OAuth client mmcp signs in as (a reused registration, a pre-registered client from the definition).</summary>
public sealed partial class RemoteSignInTests
{
    /// <summary>
    /// Two sign-ins to the same server register mmcp once at the authorization server (the second reuses the stored
    /// client); after the server forgets that client, the next sign-in says so, registers afresh once and works.
    /// </summary>
    [Fact]
    [Trait("Issue14", "2")]
    public async Task AuthLogin_Twice_RegistersOneClient_ForgottenClientRegisteredAfreshOnce()
    {
        await using var remote = await Remote.StartAsync();
        await remote.Issuer.SetAsync(autoApprove: true);
        var seen = new HashSet<string>(StringComparer.Ordinal);

        await remote.LoginWithoutBrowserAsync();
        var first = (string?)remote.ReadTokens(seen)["clientId"];
        await remote.LoginWithoutBrowserAsync();
        Assert.Equal(1, await remote.Issuer.RegistrationsAsync());
        Assert.Equal(first, (string?)remote.ReadTokens(seen)["clientId"]);
        var call = await remote.MmcpAsync("call", RemoteId, "io_test_alpha__echo", "--args", """{"text":"again"}""");
        Assert.True(call.ExitCode == 0, call.Stdout + call.Stderr);

        await remote.Issuer.DeleteRegisteredClientsAsync();
        string output;
        await using (var login = remote.StartLogin())
        {
            await FollowAsync(await remote.AuthorizationUrlAsync(login));
            await login.WaitForLineAsync(l => l.StartsWith($"Signed in to '{RemoteId}'", StringComparison.Ordinal));
            output = login.Output;
        }

        Assert.Contains("refused mmcp's stored client registration", output, StringComparison.Ordinal);
        Assert.Equal(2, await remote.Issuer.RegistrationsAsync());
        Assert.NotEqual(first, (string?)remote.ReadTokens(seen)["clientId"]);
        Assert.All(seen, token => Assert.DoesNotContain(token, output, StringComparison.Ordinal));
    }

    /// <summary>
    /// A definition naming a pre-registered client (id, secret from <c>${env:…}</c>, scopes, a fixed redirect port):
    /// the sign-in uses it without registering, asks for the named scopes, and a later call refreshes as that client;
    /// the secret is never printed, and a literal secret in a manifest fails validation without being shown.
    /// </summary>
    [Fact]
    [Trait("Issue14", "3")]
    public async Task AuthLogin_PreRegisteredClientInDefinition_NoRegistration_ScopesUsed_RefreshWorks_SecretNeverShown()
    {
        const string Secret = "pre-registered-client-secret-value";
        await using var remote = await Remote.StartAsync();
        await remote.Issuer.SetAsync(autoApprove: true);
        var port = FreePort();
        await remote.Issuer.RegisterClientAsync("mmcp-preregistered", $"http://127.0.0.1:{port}/callback", Secret);
        await remote.HubEnv.WriteManifestAsync(Servers.Manifest(RemoteId, new HttpTransport
        {
            Url = new Uri(remote.Url + "/mcp"),
            OAuth = new OAuthClientSettings { ClientId = "mmcp-preregistered", ClientSecret = "${env:REMOTE_CLIENT_SECRET}", Scopes = ["tools:list", "tools:call"], RedirectPort = port },
        }));
        var variables = new Dictionary<string, string>(remote.HubEnv.Variables) { ["REMOTE_CLIENT_SECRET"] = Secret };
        var outputs = new List<string>();

        await using (var login = ChildProcess.Start("dotnet", [Mmcp, "auth", "login", RemoteId, "--no-browser", "-v"], variables))
        {
            var url = await remote.AuthorizationUrlAsync(login);
            var query = System.Web.HttpUtility.ParseQueryString(new Uri(url).Query);
            Assert.Equal("mmcp-preregistered", query["client_id"]);
            Assert.Equal($"http://127.0.0.1:{port}/callback", query["redirect_uri"]);
            await FollowAsync(url);
            await login.WaitForLineAsync(l => l.StartsWith($"Signed in to '{RemoteId}'", StringComparison.Ordinal));
            outputs.Add(login.Output);
        }

        Assert.Equal(0, await remote.Issuer.RegistrationsAsync());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stored = remote.ReadTokens(seen);
        Assert.Equal("mmcp-preregistered", (string?)stored["clientId"]);
        Assert.Contains("tools:call", (string?)stored["scope"] ?? string.Empty, StringComparison.Ordinal);

        // The access token expires: the refresh authenticates as the pre-registered client with its secret.
        remote.AgeAccessToken();
        var call = await Run.ProcessAsync("dotnet", [Mmcp, "call", RemoteId, "io_test_alpha__echo", "--args", """{"text":"refreshed"}""", "-v"], variables);
        outputs.Add(call.Stdout + call.Stderr);
        Assert.True(call.ExitCode == 0, call.Stdout + call.Stderr);
        Assert.NotEqual((string?)stored["accessToken"], (string?)remote.ReadTokens(seen)["accessToken"]);
        var servers = await Run.ProcessAsync("dotnet", [Mmcp, "servers", "--json"], variables);
        outputs.Add(servers.Stdout + servers.Stderr);

        // A literal secret is refused by validation, which never repeats it.
        var literal = Path.Combine(remote.HubEnv.ConfigDirectory, "literal.json");
        var json = """{"manifestVersion":1,"id":"io.test.literal","name":"literal","version":"1.0.0","transport":{"type":"http","url":"https://example.com/mcp","oauth":{"clientId":"x","clientSecret":"SECRET","scopes":["a b"]}}}""";
        await File.WriteAllTextAsync(literal, json.Replace("SECRET", Secret, StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var validate = await Run.ProcessAsync("dotnet", [Mmcp, "manifest", "validate", literal], variables);
        outputs.Add(validate.Stdout + validate.Stderr);
        Assert.True(validate.ExitCode == 6, validate.Stdout + validate.Stderr);
        Assert.Contains("transport.oauth.clientSecret", validate.Stdout + validate.Stderr, StringComparison.Ordinal);
        Assert.Contains("transport.oauth.scopes[0]", validate.Stdout + validate.Stderr, StringComparison.Ordinal);

        foreach (var output in outputs)
        {
            Assert.DoesNotContain(Secret, output, StringComparison.Ordinal);
            Assert.All(seen, token => Assert.DoesNotContain(token, output, StringComparison.Ordinal));
        }
    }
}
