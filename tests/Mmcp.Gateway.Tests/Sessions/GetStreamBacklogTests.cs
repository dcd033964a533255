using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mmcp.Gateway.Sessions;

namespace Mmcp.Gateway.Tests.Sessions;

/// <summary>
/// What the servers send on their own to an /mcp session before its client opened the GET stream is held, bounded,
/// and delivered in order when the stream opens. Two sessions: one opens its GET stream at once and tells when the
/// gateway pushed; the other opens it later (or never).
/// </summary>
[Trait("Speed", "slow")]
public sealed class GetStreamBacklogTests
{
    private const string Sentinel = "after the GET";

    /// <summary>
    /// Regression: the SDK's transport drops a notification sent before the client opened its GET stream, so log
    /// messages and a tool-list change pushed after initialize but before the GET were lost.
    /// </summary>
    [Fact]
    public async Task MessagesPushedBeforeTheGetStream_AreDeliveredInOrderWhenItOpens()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var late = await RawSession.OpenAsync(gateway);
        var watcher = await RawSession.OpenAsync(gateway);
        using var watcherStream = await watcher.OpenStreamAsync();
        await using var watched = new SseEvents(watcherStream);

        // Pushed to every aggregated session: a REST call's log messages (no session's call is in flight), and the
        // tool-list change of a tool the server adds.
        await CallAsync(gateway, "log", """{"levels":["info","warning","error"],"message":"early"}""");
        var logged = (await watched.UntilAsync(e => Describe(e) == "notifications/message error early")).Count;
        await CallAsync(gateway, "add_tool", """{"name":"late_tool"}""");
        await watched.UntilAsync(e => (string?)e["method"] == "notifications/tools/list_changed", after: logged);

        using var lateStream = await late.OpenStreamAsync();
        await using var delivered = new SseEvents(lateStream);
        await CallAsync(gateway, "log", $$"""{"levels":["info"],"message":"{{Sentinel}}"}""");
        var pushed = (await watched.UntilAsync(IsSentinel)).Select(Describe).SkipWhile(d => !d.EndsWith(" early", StringComparison.Ordinal)).ToList();
        var received = (await delivered.UntilAsync(IsSentinel)).Select(Describe).SkipWhile(d => !d.EndsWith(" early", StringComparison.Ordinal)).ToList();

        Assert.Equal(["notifications/message info early", "notifications/message warning early", "notifications/message error early"], received.Take(3));
        Assert.Contains("notifications/tools/list_changed", received.Skip(3));
        Assert.Equal(pushed, received);
    }

    /// <summary>
    /// A session whose client does not open its GET stream holds at most <see cref="SessionOutbox.MaxMessages"/> messages:
    /// the oldest go first, and the gateway says so in its log; the newest are delivered, in order, when the stream opens.
    /// </summary>
    [Fact]
    public async Task ClientThatHasNotOpenedItsGetStream_KeepsTheNewestMessages_AndTheDropIsLogged()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        var logs = new LogCapture(_ => false);
        await using var gateway = await GatewayHost.StartAsync(env, services: s => s.AddSingleton<ILoggerProvider>(logs));
        var late = await RawSession.OpenAsync(gateway);
        var watcher = await RawSession.OpenAsync(gateway);
        using var watcherStream = await watcher.OpenStreamAsync();
        await using var watched = new SseEvents(watcherStream);

        await CallAsync(gateway, "log", Levels(20, "debug", "old"));
        await CallAsync(gateway, "log", Levels(SessionOutbox.MaxMessages, "info", "new"));
        await watched.UntilAsync(e => (string?)e["params"]?["data"] == "new", count: SessionOutbox.MaxMessages);

        using var lateStream = await late.OpenStreamAsync();
        await using var delivered = new SseEvents(lateStream);
        await CallAsync(gateway, "log", $$"""{"levels":["info"],"message":"{{Sentinel}}"}""");
        var received = (await delivered.UntilAsync(IsSentinel)).Select(Describe).ToList();

        Assert.Equal([.. Enumerable.Repeat("notifications/message info new", SessionOutbox.MaxMessages), "notifications/message info " + Sentinel], received);
        var dropped = Assert.Single(logs.Entries, e => e.Message.Contains(late.Id, StringComparison.Ordinal) && e.Message.Contains("dropping", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, dropped.Level);
    }

    /// <summary>
    /// A client that never opens its GET stream: the backlog stays within <see cref="SessionOutbox.MaxBytes"/> (large
    /// messages), and it is dropped when the session ends.
    /// </summary>
    [Fact]
    public async Task ClientThatNeverOpensItsGetStream_BacklogStaysWithinItsBytes_AndIsDroppedWhenTheSessionEnds()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var never = await RawSession.OpenAsync(gateway);
        var watcher = await RawSession.OpenAsync(gateway);
        using var watcherStream = await watcher.OpenStreamAsync();
        await using var watched = new SseEvents(watcherStream);
        Assert.True(gateway.Services.GetRequiredService<SessionDirectory>().TryGet(never.Id, out var session));
        var large = new string('x', 100_000);

        await CallAsync(gateway, "log", Levels(12, "info", large));
        await watched.UntilAsync(e => (string?)e["params"]?["data"] == large, count: 12);

        var outbox = session.Outbox;
        Assert.InRange(outbox.Bytes, 9 * large.Length, SessionOutbox.MaxBytes);
        Assert.True(outbox.Count is > 0 and < 12, $"{outbox.Count} held");
        Assert.True(outbox.Dropped >= 12 - outbox.Count, $"{outbox.Dropped} dropped");

        await never.DeleteAsync();

        Assert.False(gateway.Services.GetRequiredService<SessionDirectory>().TryGet(never.Id, out _));
        Assert.Equal((0, 0L), (outbox.Count, outbox.Bytes));
    }

    /// <summary>
    /// The same on a pass-through session with an upstream session of its own: the server's tool-list change, sent
    /// while the client had not opened its GET stream, reaches it when it does (and one sent after, after it).
    /// </summary>
    [Fact]
    public async Task DedicatedPassThrough_ListChangedBeforeTheGetStream_IsDeliveredWhenItOpens()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.DedicatedUpstreamSessions = true);
        var session = await RawSession.OpenAsync(gateway, path: "/servers/io.test.alpha/mcp");

        Assert.Equal(System.Net.HttpStatusCode.OK, (await session.PostAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_tool","arguments":{"name":"first_tool"}}}""")).Status);
        using var stream = await session.OpenStreamAsync();
        await using var delivered = new SseEvents(stream);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await session.PostAsync("""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add_tool","arguments":{"name":"second_tool"}}}""")).Status);

        var received = await delivered.UntilAsync(e => (string?)e["method"] == "notifications/tools/list_changed", count: 2);

        Assert.Equal(["notifications/tools/list_changed", "notifications/tools/list_changed"], received.Select(Describe));
    }

    private static string Levels(int count, string level, string message) =>
        new JsonObject { ["levels"] = new JsonArray([.. Enumerable.Range(0, count).Select(_ => (JsonNode?)JsonValue.Create(level))]), ["message"] = message }.ToJsonString();

    private static async Task CallAsync(GatewayHost gateway, string tool, string arguments)
    {
        var (status, body) = await gateway.PostJsonAsync("/mcp/tools/call", $$"""{"name":"io_test_alpha__{{tool}}","arguments":{{arguments}}}""");
        Assert.True(status == System.Net.HttpStatusCode.OK, body);
    }

    private static bool IsSentinel(JsonNode e) => (string?)e["params"]?["data"] == Sentinel;

    private static string Describe(JsonNode e) => (string?)e["method"] == "notifications/message"
        ? $"notifications/message {(string?)e["params"]?["level"]} {(string?)e["params"]?["data"]}"
        : (string?)e["method"] ?? e.ToJsonString();

    /// <summary>The JSON-RPC messages of an SSE stream, read as they come.</summary>
    private sealed class SseEvents(HttpResponseMessage response) : IAsyncDisposable
    {
        private readonly List<JsonNode> _seen = [];
        private StreamReader? _reader;

        /// <summary>Reads until <paramref name="count"/> messages after the first <paramref name="after"/> matched; returns every message read so far.</summary>
        public async Task<IReadOnlyList<JsonNode>> UntilAsync(Func<JsonNode, bool> match, int count = 1, int after = 0)
        {
            var ct = TestContext.Current.CancellationToken;
            _reader ??= new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            while (_seen.Skip(after).Count(match) < count)
            {
                var line = await _reader.ReadLineAsync(ct).AsTask().WaitAsync(TestTimeouts.Default, ct) ?? throw new InvalidOperationException("The stream ended.");
                if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    _seen.Add(JsonNode.Parse(line["data:".Length..])!);
                }
            }

            return _seen;
        }

        public ValueTask DisposeAsync()
        {
            _reader?.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
