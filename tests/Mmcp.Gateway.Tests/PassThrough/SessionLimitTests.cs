using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Mmcp.Gateway.Security;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;

namespace Mmcp.Gateway.Tests.PassThrough;

/// <summary>Sessions whose client went away are reaped early, and one caller cannot take every session from the others.</summary>
[Trait("Speed", "slow")]
public sealed partial class SessionLimitTests
{
    private const string Alpha = "/servers/io.test.alpha/mcp";
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A dedicated session with no GET stream and no request for the abandoned window ends, its upstream process exits, and its next request is 404.</summary>
    [Fact]
    [Trait("Issue12", "3")]
    public async Task AbandonedDedicatedSession_NoStreamNoRequestForTheWindow_UpstreamProcessExitsAndSessionIs404()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync(env, o => o.AbandonedSessionTimeout = Window, services: s => s.AddSingleton<TimeProvider>(clock));
        var session = await RawSession.OpenAsync(gateway, path: Alpha);
        using var upstream = Process.GetProcessById(await PidAsync(session));

        clock.Advance(Window + Window);
        await upstream.WaitForExitAsync(Ct).WaitAsync(TestTimeouts.Default, Ct);
        var after = await session.PostAsync(PidCall);

        Assert.Equal(HttpStatusCode.NotFound, after.Status);
        Assert.Contains("Session not found", after.Body, StringComparison.Ordinal);
        Assert.Equal((0, 0), gateway.Services.GetRequiredService<Gateway.Sessions.SessionDirectory>().CountOf(Gateway.Sessions.SessionDirectory.LocalCaller));
    }

    /// <summary>A client that keeps its GET stream open keeps its dedicated session and upstream process past the abandoned window.</summary>
    [Fact]
    [Trait("Issue12", "3")]
    public async Task DedicatedSession_ClientHoldingAGetStream_OutlivesTheAbandonedWindow()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync(env, o => o.AbandonedSessionTimeout = Window, services: s => s.AddSingleton<TimeProvider>(clock));
        var session = await RawSession.OpenAsync(gateway, path: Alpha);
        var pid = await PidAsync(session);
        using var get = new HttpRequestMessage(HttpMethod.Get, gateway.Url + Alpha);
        get.Headers.Add("Mcp-Session-Id", session.Id);
        get.Headers.Add("MCP-Protocol-Version", "2025-06-18");
        get.Headers.Accept.ParseAdd("text/event-stream");
        using var stream = await gateway.Http.SendAsync(get, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);

        clock.Advance(Window * 3);
        var again = await PidAsync(session);

        Assert.Equal(pid, again);
    }

    /// <summary>A client without a GET stream that keeps sending requests, each within the window, keeps its dedicated session.</summary>
    [Fact]
    [Trait("Issue12", "3")]
    public async Task DedicatedSession_ClientCallingWithinTheWindow_KeepsItsSession()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync(env, o => o.AbandonedSessionTimeout = Window, services: s => s.AddSingleton<TimeProvider>(clock));
        var session = await RawSession.OpenAsync(gateway, path: Alpha);
        var pid = await PidAsync(session);

        clock.Advance(Window * 3 / 4);
        var second = await PidAsync(session);
        clock.Advance(Window * 3 / 4);
        var third = await PidAsync(session);

        Assert.Equal(pid, second);
        Assert.Equal(pid, third);
    }

    /// <summary>
    /// One caller opening sessions without end is refused with 503, Retry-After and a JSON-RPC error at its own limit,
    /// on /mcp and on the shared pass-through alike; another caller's session goes on (the SDK does not push it out),
    /// and that caller can still open a new one.
    /// </summary>
    [Theory]
    [Trait("Issue12", "3")]
    [InlineData("/mcp", true)]
    [InlineData(Alpha, false)] // --shared-upstream: no upstream session per session, but the sessions are counted the same
    public async Task CallerFloodingSessions_RefusedAtItsLimit_OtherCallersSessionsGoOn(string path, bool dedicated)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(
            env,
            o =>
            {
                o.MaxSessionsPerCaller = 3;
                o.DedicatedUpstreamSessions = dedicated;
            },
            services: s => s.PostConfigure<HttpServerTransportOptions>(t =>
            {
#pragma warning disable MCP9006 // the SDK's own limit, which pushes the oldest idle session out, whoever holds it
                t.MaxIdleSessionCount = 5;
#pragma warning restore MCP9006
            }));
        var (_, secret) = await gateway.Tokens.CreateAsync("other", [GatewayScopes.All], cancellationToken: TestContext.Current.CancellationToken);
        var other = await RawSession.OpenAsync(gateway, secret, path);

        var statuses = new List<HttpStatusCode>();
        JsonNode? refusal = null;
        TimeSpan? retryAfter = null;
        for (var i = 0; i < 10; i++)
        {
            using var response = await InitializeAsync(gateway, path, token: null, id: $"flood-{i}");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                refusal = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct));
                retryAfter = response.Headers.RetryAfter?.Delta;
            }
        }

        var stillThere = await other.PostAsync("""{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}""");
        var fresh = await RawSession.OpenAsync(gateway, secret, path);
        var freshList = await fresh.PostAsync("""{"jsonrpc":"2.0","id":8,"method":"tools/list","params":{}}""");

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 3), .. Enumerable.Repeat(HttpStatusCode.ServiceUnavailable, 7)], statuses);
        Assert.NotNull(retryAfter);
        Assert.Equal("flood-9", refusal!["id"]!.GetValue<string>());
        Assert.Equal((int)McpErrorCode.InternalError, refusal["error"]!["code"]!.GetValue<int>());
        Assert.Contains("MaxSessionsPerCaller", refusal["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, stillThere.Status);
        Assert.Contains("echo", stillThere.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, freshList.Status);
    }

    /// <summary>One caller cannot hold every dedicated upstream session: past its own limit it gets 503 naming it, and another caller still gets one (its own process).</summary>
    [Fact]
    [Trait("Issue12", "3")]
    public async Task CallerAtItsDedicatedLimit_Refused503_AnotherCallerStillGetsADedicatedSession()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, o =>
        {
            o.MaxDedicatedSessions = 3;
            o.MaxDedicatedSessionsPerCaller = 2;
        });
        var (_, secret) = await gateway.Tokens.CreateAsync("other", [GatewayScopes.All], cancellationToken: TestContext.Current.CancellationToken);
        var first = await RawSession.OpenAsync(gateway, path: Alpha);
        var second = await RawSession.OpenAsync(gateway, path: Alpha);

        using var refused = await InitializeAsync(gateway, Alpha, token: null, id: 3);
        var body = JsonNode.Parse(await refused.Content.ReadAsStringAsync(Ct))!;
        var other = await RawSession.OpenAsync(gateway, secret, Alpha);
        var pids = new[] { await PidAsync(first), await PidAsync(second), await PidAsync(other) };

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        Assert.Equal(3, body["id"]!.GetValue<int>());
        Assert.Contains("MaxDedicatedSessionsPerCaller", body["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(3, pids.Distinct().Count());
        var shared = gateway.Hub.GetServerStatus("io.test.alpha").ProcessId;
        Assert.DoesNotContain(pids, p => p == shared);
    }

    private const string PidCall = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pid","arguments":{}}}""";

    private static async Task<int> PidAsync(RawSession session)
    {
        var answer = await session.PostAsync(PidCall);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        return int.Parse(PidText().Match(answer.Body).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static async Task<HttpResponseMessage> InitializeAsync(GatewayHost gateway, string path, string? token, JsonNode id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.Url + path)
        {
            Content = new StringContent(
                new JsonObject
                {
                    ["jsonrpc"] = "2.0",
                    ["id"] = id,
                    ["method"] = "initialize",
                    ["params"] = new JsonObject { ["protocolVersion"] = "2025-06-18", ["capabilities"] = new JsonObject(), ["clientInfo"] = new JsonObject { ["name"] = "flood", ["version"] = "1" } },
                }.ToJsonString(),
                Encoding.UTF8,
                "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return await gateway.Http.SendAsync(request, Ct);
    }

    [GeneratedRegex("\"text\":\"(\\d+)\"")]
    private static partial Regex PidText();
}
