using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Mmcp.Gateway.Security;

namespace Mmcp.Gateway.Tests.Aggregation;

/// <summary>
/// The direct lane of /mcp: a 2025-era session's plain tools/call is answered with one application/json body; calls
/// with a progress token, other methods, foreign callers and stale sessions still go through the SDK, and both paths
/// answer alike.
/// </summary>
public sealed class DirectLaneTests
{
    private const string Echo = """{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"io_test_alpha__echo","arguments":{"text":"hi"}}}""";

    [Fact]
    public async Task PlainCall_IsOneJsonBodyWithLength_AndAProgressCallStillStreams()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway);

        var direct = await session.PostAsync(Echo);
        var streamed = await session.PostAsync("""{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"io_test_alpha__progress","arguments":{"steps":2,"holdMilliseconds":0},"_meta":{"progressToken":"p1"}}}""");

        Assert.Equal(HttpStatusCode.OK, direct.Status);
        Assert.Equal("application/json", direct.ContentType);
        Assert.Equal(Encoding.UTF8.GetByteCount(direct.Body), direct.ContentLength);
        Assert.Equal(session.Id, direct.SessionId);
        var answer = JsonNode.Parse(direct.Body)!;
        Assert.Equal("2.0", answer["jsonrpc"]!.GetValue<string>());
        Assert.Equal(7, answer["id"]!.GetValue<int>());
        Assert.Equal("echo: hi", answer["result"]!["content"]![0]!["text"]!.GetValue<string>());

        Assert.Equal("text/event-stream", streamed.ContentType);
        Assert.Equal(2, CountOccurrences(streamed.Body, "notifications/progress"));
        Assert.Contains("done 2", streamed.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name":"io_test_alpha__nope","arguments":{}}""")]
    [InlineData("""{"name":"io_test_alpha__crash","arguments":{"exitCode":3,"message":"boom"}}""")]
    [InlineData("""{"name":"io_test_alpha__add","arguments":{"a":"not a number","b":2}}""")]
    public async Task Errors_AreTheSameOnBothPaths(string parameters)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway);
        var viaSdk = JsonNode.Parse(parameters)!.AsObject();
        viaSdk["_meta"] = new JsonObject { ["progressToken"] = "p" }; // a progress token sends the call through the SDK

        var direct = await session.PostAsync($$"""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{parameters}}}""");
        var sdk = await session.PostAsync($$"""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{viaSdk.ToJsonString()}}}""");

        Assert.Equal("application/json", direct.ContentType);
        Assert.Equal("text/event-stream", sdk.ContentType);
        var directMessage = JsonNode.Parse(direct.Body)!;
        var sdkMessage = JsonNode.Parse(RawSession.LastSseData(sdk.Body))!;
        if (sdkMessage["error"] is { } error)
        {
            // The crash message names the server's last output, which is the same for both calls.
            Assert.True(JsonNode.DeepEquals(error, directMessage["error"]), $"direct: {direct.Body}\nsdk: {sdk.Body}");
        }
        else
        {
            Assert.True(JsonNode.DeepEquals(sdkMessage["result"], directMessage["result"]), $"direct: {direct.Body}\nsdk: {sdk.Body}");
        }
    }

    [Fact]
    public async Task CancelledNotification_CancelsTheCallUpstream_AndEndsItsRequestWithoutAnAnswer()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var ct = TestContext.Current.CancellationToken;
        var session = await RawSession.OpenAsync(gateway);
        await session.PostAsync(Echo); // the server is running
        using var watch = new UpstreamCancellationWatch(gateway.Hub, "io.test.alpha", "wait");

        var call = session.PostAsync("""{"jsonrpc":"2.0","id":"slow-1","method":"tools/call","params":{"name":"io_test_alpha__wait","arguments":{"milliseconds":600000}}}""");
        await watch.CallSent;
        var cancel = await session.PostAsync("""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow-1","reason":"user"}}""");
        var ended = await call.WaitAsync(TestTimeouts.Default, ct);

        Assert.Equal(HttpStatusCode.Accepted, cancel.Status);
        await watch.CancelSent;
        Assert.Equal(HttpStatusCode.Accepted, ended.Status);
        Assert.Empty(ended.Body);
        Assert.Equal(HttpStatusCode.OK, (await session.PostAsync(Echo)).Status); // the session goes on
    }

    [Fact]
    public async Task AnotherTokensRequest_OnTheSession_IsRefusedLikeTheSdkDoes()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.RequireToken = true);
        var (_, owner) = await gateway.Tokens.CreateAsync("owner", [GatewayScopes.All], cancellationToken: TestContext.Current.CancellationToken);
        var (_, other) = await gateway.Tokens.CreateAsync("other", [GatewayScopes.All], cancellationToken: TestContext.Current.CancellationToken);
        var session = await RawSession.OpenAsync(gateway, owner);

        var own = await session.PostAsync(Echo);
        var foreign = await session.PostAsync(Echo, other);

        Assert.Equal(HttpStatusCode.OK, own.Status);
        Assert.Equal(HttpStatusCode.Forbidden, foreign.Status);
        Assert.DoesNotContain("echo: hi", foreign.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletedSession_IsNotFound()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway);
        Assert.Equal(HttpStatusCode.OK, (await session.PostAsync(Echo)).Status);

        await session.DeleteAsync();
        var after = await session.PostAsync(Echo);

        Assert.Equal(HttpStatusCode.NotFound, after.Status);
        Assert.Contains("Session not found", after.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionTheSdkHasNotSeenForAQuarterOfItsIdleTimeout_GoesThroughTheSdkOnce()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var idle = TimeSpan.FromMinutes(8);
        await using var gateway = await GatewayHost.StartAsync(env, o => o.SessionIdleTimeout = idle, services: s => s.AddSingleton<TimeProvider>(clock));
        var session = await RawSession.OpenAsync(gateway);

        var fresh = await session.PostAsync(Echo);
        clock.Advance(idle / 4 + TimeSpan.FromSeconds(1));
        var refresh = await session.PostAsync(Echo);
        var again = await session.PostAsync(Echo);

        // The SDK's answer restarts its idle clock for the session, so the session is not reaped while in use.
        Assert.Equal("application/json", fresh.ContentType);
        Assert.Equal("text/event-stream", refresh.ContentType);
        Assert.Contains("echo: hi", refresh.Body, StringComparison.Ordinal);
        Assert.Equal("application/json", again.ContentType);
    }

    [Theory]
    [InlineData(true, "{}", "application/json")] // its own upstream session
    [InlineData(true, """{"sampling":{}}""", "text/event-stream")] // the server may ask this client something: the call keeps its stream
    [InlineData(false, "{}", "application/json")] // the hub's shared connection
    public async Task PassThroughSession_PlainCall_IsDirectUnlessTheClientCanBeAskedThings(bool dedicated, string capabilities, string expected)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.DedicatedUpstreamSessions = dedicated);
        var session = await RawSession.OpenAsync(gateway, path: "/servers/io.test.alpha/mcp", capabilities: capabilities);

        var call = await session.PostAsync("""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"through"}}}""");
        var unknown = await session.PostAsync("""{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope","arguments":{}}}""");

        Assert.Equal(HttpStatusCode.OK, call.Status);
        Assert.Equal(expected, call.ContentType);
        Assert.Contains("echo: through", call.Body, StringComparison.Ordinal);
        Assert.Equal(expected, unknown.ContentType);
        Assert.Contains("\"error\"", unknown.Body, StringComparison.Ordinal);
        Assert.Contains("nope", unknown.Body, StringComparison.Ordinal);
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
