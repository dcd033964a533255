using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Mmcp.Gateway.Tests.Inspect;

/// <summary>The live traffic view behind <c>mmcp inspect</c>.</summary>
public sealed class InspectTests
{
    [Fact]
    public async Task InspectStream_ShowsRequestAndResponseWithTiming()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var ct = TestContext.Current.CancellationToken;
        var secret = gateway.Services.GetRequiredService<GatewayRuntime>().InspectToken;
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.Url + "/inspect/io.test.alpha");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        Assert.Equal("event: ready", await reader.ReadLineAsync(ct));

        await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_alpha__echo","arguments":{"text":"watched"}}""");
        JsonElement? answer = null;
        var sawRequest = false;
        while (answer is null && await reader.ReadLineAsync(ct).AsTask().WaitAsync(TestTimeouts.Default, ct) is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal) || !line.Contains("\"kind\"", StringComparison.Ordinal))
            {
                continue;
            }

            var e = JsonDocument.Parse(line[6..]).RootElement.Clone();
            sawRequest |= e.GetProperty("kind").GetString() == "request" && e.GetProperty("method").GetString() == "tools/call" && e.GetProperty("direction").GetString() == "to-server";
            if (e.GetProperty("kind").GetString() == "response" && e.TryGetProperty("method", out var m) && m.GetString() == "tools/call")
            {
                answer = e;
            }
        }

        Assert.True(sawRequest);
        Assert.True(answer!.Value.GetProperty("ms").GetDouble() >= 0);
        Assert.Contains("watched", answer.Value.GetProperty("message").GetRawText(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A token with the inspect scope is revoked, or expires, while its traffic stream is open: the stream ends (within
    /// the gateway's one-second look at its callers' tokens), so the revoked token watches no more tool arguments and
    /// results (regression: the stream went on until the client closed it).
    /// </summary>
    [Theory]
    [Trait("Leftovers", "revocation")]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InspectStream_WhenItsTokenIsRevokedOrExpires_Ends(bool expire)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync(env, services: s => s.AddSingleton<TimeProvider>(clock));
        var ct = TestContext.Current.CancellationToken;
        var (token, secret) = await gateway.Tokens.CreateAsync("watcher", [Gateway.Security.GatewayScopes.Inspect], expire ? TimeSpan.FromMinutes(5) : null, ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.Url + "/inspect/io.test.alpha");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        Assert.Equal("event: ready", await reader.ReadLineAsync(ct));

        if (expire)
        {
            clock.Advance(TimeSpan.FromMinutes(5));
        }
        else
        {
            await gateway.Tokens.RevokeAsync(token.Id, ct);
        }

        clock.Advance(Gateway.Sessions.SessionDirectory.OwnerCheckPeriod);
        var ended = false;
        try
        {
            while (await reader.ReadLineAsync(ct).AsTask().WaitAsync(TestTimeouts.Default, ct) is not null)
            {
            }

            ended = true;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            ended = true;
        }

        Assert.True(ended);
    }

    [Fact]
    public async Task InspectStream_WithoutInspectToken_IsRefusedEvenOnLoopback()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var (_, callerOnly) = await gateway.Tokens.CreateAsync("caller", [Gateway.Security.GatewayScopes.ToolsCall], cancellationToken: TestContext.Current.CancellationToken);

        var anonymous = await gateway.GetAsync("/inspect/io.test.alpha");
        var wrongScope = await gateway.GetAsync("/inspect/io.test.alpha", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", callerOnly));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Status);
        Assert.Equal(HttpStatusCode.Forbidden, wrongScope.Status);
    }
}
