using System.Net;
using System.Text;
using System.Text.Json;
using System.Web;
using Atlas.Client.Protocol;

namespace Atlas.Desktop.Tests.Admin;

/// <summary>
/// The admin UI's "Sign in" for remote MCP servers that need OAuth (issue 14, part 1), against real parts: the
/// OpenIddict test issuer and <c>mmcp serve --oauth-issuer</c> as child processes, the desktop's own hub, and the
/// authorization step completed over HTTP the way a browser follows it.
/// </summary>
[Trait("Speed", "slow")]
public sealed class AdminSignInTests
{
    private const string Id = OAuthRemote.ServerId;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A server that needs a sign-in is listed as such; the admin API's sign-in (same pending URL on a second
    /// click) completes at the issuer, the server connects and its tools list without a restart; sign-out revokes and
    /// returns it to "sign-in required"; no token ever appears in admin JSON, the desktop's logs or its audit log.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task AdminSignIn_RealIssuer_ToolsAppearAfterSignIn_SignOutReturnsToSignInRequired_TokensNeverShown()
    {
        await using var remote = await OAuthRemote.StartAsync();
        using var admin = await AdminClient.SignInAsync(remote.Host);
        var seen = new StringBuilder();

        var before = await WaitForServerAsync(admin, seen, s => s.GetProperty("state").GetString() != "connecting");
        Assert.Equal("sign-in-required", before.GetProperty("state").GetString());
        Assert.Equal("SignInRequired", before.GetProperty("lastError").GetProperty("code").GetString());
        Assert.False(before.GetProperty("signIn").GetProperty("signedIn").GetBoolean());

        await remote.SetAutoApproveAsync(true);
        var started = await PostAsync(admin, seen, $"servers/{Id}/sign-in");
        Assert.Equal("pending", started.GetProperty("state").GetString());
        var url = started.GetProperty("authorizationUrl").GetString()!;
        Assert.StartsWith(remote.Issuer.AbsoluteUri, url, StringComparison.Ordinal);
        var again = await PostAsync(admin, seen, $"servers/{Id}/sign-in");
        Assert.Equal(url, again.GetProperty("authorizationUrl").GetString());

        var callback = await remote.FollowAsync(url);
        Assert.Contains("id=\"done\"", callback, StringComparison.Ordinal);
        var outcome = await WaitForAsync(admin, seen, $"servers/{Id}/sign-in", a => a.GetProperty("state").GetString() != "pending");
        Assert.Equal("succeeded", outcome.GetProperty("state").GetString());

        var after = await WaitForServerAsync(admin, seen, s => s.GetProperty("state").GetString() == "connected" && s.GetProperty("toolCount").GetInt32() > 0);
        var signIn = after.GetProperty("signIn");
        Assert.True(signIn.GetProperty("signedIn").GetBoolean());
        Assert.Contains("tools:call", signIn.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.StartsWith(remote.Issuer.GetLeftPart(UriPartial.Authority), signIn.GetProperty("authorizationServer").GetString(), StringComparison.Ordinal);
        var tools = await GetAsync(admin, seen, $"servers/{Id}/tools");
        Assert.Equal("live", tools.GetProperty("source").GetString());
        Assert.Contains(tools.GetProperty("tools").EnumerateArray(), t => t.GetProperty("name").GetString()!.EndsWith("echo", StringComparison.Ordinal));
        var tokens = remote.StoredTokens();
        Assert.NotEmpty(tokens);

        var signedOut = await PostAsync(admin, seen, $"servers/{Id}/sign-out");
        Assert.True(signedOut.GetProperty("signedOut").GetBoolean());
        Assert.True(signedOut.GetProperty("revoked").GetBoolean());
        Assert.Empty(remote.StoredTokens());
        var gone = await WaitForServerAsync(admin, seen, s => s.GetProperty("state").GetString() is not ("connecting" or "connected"));
        Assert.Equal("sign-in-required", gone.GetProperty("state").GetString());
        Assert.False(gone.GetProperty("signIn").GetProperty("signedIn").GetBoolean());

        var audit = JsonSerializer.Serialize(await remote.Host.Get<Storage.IAuditLog>().RecentAsync(500, Ct));
        Assert.Contains("SignInRequired", remote.Logs.Text + seen, StringComparison.Ordinal);
        foreach (var token in tokens)
        {
            Assert.DoesNotContain(token, seen.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(token, remote.Logs.Text, StringComparison.Ordinal);
            Assert.DoesNotContain(token, audit, StringComparison.Ordinal);
        }
    }

    /// <summary>A pending sign-in can be cancelled; a browser that comes back with another state is refused with a
    /// stable code and a clear message; bad requests (unknown server, a stdio server, no admin header, signing out
    /// with no sign-in) fail with the admin API's codes and change nothing.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task AdminSignIn_CancelStateMismatchAndBadInput_ClearErrorsNothingStored()
    {
        await using var remote = await OAuthRemote.StartAsync();
        using var admin = await AdminClient.SignInAsync(remote.Host);
        var seen = new StringBuilder();

        var started = await PostAsync(admin, seen, $"servers/{Id}/sign-in");
        var cancelled = await PostAsync(admin, seen, $"servers/{Id}/sign-in/cancel");
        Assert.Equal("cancelled", cancelled.GetProperty("state").GetString());
        Assert.Equal(ErrorCodes.Cancelled, cancelled.GetProperty("error").GetProperty("code").GetString());

        var second = await PostAsync(admin, seen, $"servers/{Id}/sign-in");
        var secondUrl = second.GetProperty("authorizationUrl").GetString()!;
        Assert.NotEqual(started.GetProperty("authorizationUrl").GetString(), secondUrl);
        var redirect = HttpUtility.ParseQueryString(new Uri(secondUrl).Query)["redirect_uri"]!;
        var refused = await remote.FollowAsync($"{redirect}?code=forged&state=not-the-one-sent");
        Assert.Contains("state does not match", refused, StringComparison.Ordinal);
        var outcome = await WaitForAsync(admin, seen, $"servers/{Id}/sign-in", a => a.GetProperty("state").GetString() != "pending");
        Assert.Equal("failed", outcome.GetProperty("state").GetString());
        Assert.Equal("sign_in_state_mismatch", outcome.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("state that does not match", outcome.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(remote.StoredTokens());

        // The user presses "Deny": the authorization server sends the browser back with an error.
        var third = await PostAsync(admin, seen, $"servers/{Id}/sign-in");
        var thirdQuery = HttpUtility.ParseQueryString(new Uri(third.GetProperty("authorizationUrl").GetString()!).Query);
        await remote.FollowAsync($"{thirdQuery["redirect_uri"]}?error=access_denied&error_description=The+user+denied&state={thirdQuery["state"]}");
        var denied = await WaitForAsync(admin, seen, $"servers/{Id}/sign-in", a => a.GetProperty("state").GetString() != "pending");
        Assert.Equal("sign_in_refused", denied.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("access_denied (The user denied)", denied.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(remote.StoredTokens());

        await AssertErrorAsync(admin, "servers/io.example.nothing/sign-in", HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await AssertErrorAsync(admin, $"servers/{Id}/sign-out", HttpStatusCode.NotFound, ErrorCodes.NotFound);
        using (var noHeader = await admin.SendAsync(HttpMethod.Post, $"servers/{Id}/sign-in", header: false))
        {
            Assert.Equal(HttpStatusCode.Forbidden, noHeader.StatusCode);
        }

        using (var foreign = await admin.SendAsync(HttpMethod.Post, $"servers/{Id}/sign-in", origin: "https://evil.example"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        }

        await AdminServersTests.WriteRegistryAsync(remote.Host.DataDir);
        await remote.Host.Get<Mmcp.Client.MmcpHub>().DiscoverServersAsync(Ct);
        await AssertErrorAsync(admin, $"servers/{AdminServersTests.Everything}/sign-in", HttpStatusCode.BadRequest, ErrorCodes.BadRequest);
        var view = await WaitForAsync(admin, seen, $"servers/{Id}/sign-in", _ => true);
        Assert.Equal("failed", view.GetProperty("state").GetString());
    }

    private static async Task AssertErrorAsync(AdminClient admin, string path, HttpStatusCode status, string code)
    {
        using var response = await admin.SendAsync(HttpMethod.Post, path);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"{path}: {(int)response.StatusCode} {text}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }

    private static async Task<JsonElement> GetAsync(AdminClient admin, StringBuilder seen, string path)
    {
        var json = await admin.GetAsync(path);
        seen.AppendLine(json.GetRawText());
        return json;
    }

    private static async Task<JsonElement> PostAsync(AdminClient admin, StringBuilder seen, string path)
    {
        var json = await admin.PostAsync(path);
        seen.AppendLine(json.GetRawText());
        return json;
    }

    /// <summary>Reads the server's row until <paramref name="done"/> holds; see <see cref="WaitForAsync"/>.</summary>
    internal static async Task<JsonElement> WaitForServerAsync(AdminClient admin, StringBuilder seen, Func<JsonElement, bool> done)
    {
        // A server that is connecting is refetched at once: listing waits for it (MmcpHubOptions.StartingServerListWait).
        var view = await WaitForAsync(admin, seen, "servers", v => v.GetProperty("servers").EnumerateArray().Any(s => s.GetProperty("id").GetString() == Id && done(s)),
            v => v.GetProperty("servers").EnumerateArray().Any(s => s.GetProperty("state").GetString() == "connecting"));
        return view.GetProperty("servers").EnumerateArray().Single(s => s.GetProperty("id").GetString() == Id);
    }

    /// <summary>Fetches <paramref name="path"/> until <paramref name="done"/> holds, again after each event of the admin
    /// stream (what the page does), or at once while <paramref name="again"/> holds, within the shared timeout.</summary>
    internal static async Task<JsonElement> WaitForAsync(AdminClient admin, StringBuilder seen, string path, Func<JsonElement, bool> done, Func<JsonElement, bool>? again = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Default);
        using var stream = await admin.OpenStreamAsync("events");
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(timeout.Token));
        JsonElement last = default;
        while (true)
        {
            last = await GetAsync(admin, seen, path);
            if (done(last))
            {
                return last;
            }

            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"{path} did not reach the expected state in time; last: {last.GetRawText()}");
            }

            if (again?.Invoke(last) == true)
            {
                continue;
            }

            string? line;
            do
            {
                try
                {
                    line = await reader.ReadLineAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"{path} did not reach the expected state in time; last: {last.GetRawText()}");
                    throw;
                }
            }
            while (line is not null && !line.StartsWith("data:", StringComparison.Ordinal));

            Assert.True(line is not null, "the admin event stream ended");
        }
    }
}
