using System.Net;
using System.Text.Json;
using Mmcp.Core.Manifests;

namespace Mmcp.Gateway.Tests.Fidelity;

/// <summary>
/// Text with a lone surrogate escape (<c>"\ud83d"</c>): valid JSON, which a JavaScript server writes whenever it cuts a
/// string in the middle of an emoji, but not Unicode text. The call goes through: where the gateway passes bytes on they
/// go as written, and where it reads the text it reads U+FFFD in place of the lone half, as a UTF-8 decoder does.
/// </summary>
public sealed class LoneSurrogateTests
{
    private const string Everything = "io.ev";

    public static TheoryData<string, bool> Faces => new()
    {
        { "/mcp", false },
        { "/mcp", true }, // the inspect tap on: every message of the server is read as the SDK's types
        { "/servers/io.ev/mcp", false },
    };

    public static TheoryData<string, bool> CutFaces => new()
    {
        { "/mcp", false },
        { "/mcp", true },
        { "/servers/io.cut/mcp", false },
    };

    /// <summary>A server on the official TypeScript SDK cuts an emoji in half in its answer: the client gets the answer, the half read as U+FFFD.</summary>
    [Theory]
    [MemberData(nameof(CutFaces))]
    [Trait("Issue12", "fidelity")]
    public async Task ToolsCall_ServerCutsAnEmojiInHalf_TheClientGetsTheAnswer(string route, bool watched)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        await using var gateway = await GatewayHost.StartAsync(env);
        using var tap = watched ? gateway.Hub.ObserveTraffic("io.cut", _ => { }) : null;
        var session = await RawSession.OpenAsync(gateway, path: route);
        var tool = route == "/mcp" ? "io_cut__cut" : "cut";

        var answer = await session.PostAsync("""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"TOOL","arguments":{"text":"smile \ud83d\ude42","length":7}}}""".Replace("TOOL", tool, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("smile \uFFFD", TextOf(answer, r => r.GetProperty("content")[0]));
    }

    /// <summary>The same in the text of a resource read through /mcp.</summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task ResourcesRead_ServerCutsAnEmojiInHalf_TheClientGetsTheText()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway);
        var list = await session.PostAsync("""{"jsonrpc":"2.0","id":4,"method":"resources/list"}""");
        using var listed = JsonDocument.Parse(list.Payload);
        Assert.True(listed.RootElement.GetProperty("result").GetProperty("resources").GetArrayLength() > 0, list.Payload);
        var uri = listed.RootElement.GetProperty("result").GetProperty("resources")[0].GetProperty("uri").GetString()!;

        var answer = await session.PostAsync("""{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"URI"}}""".Replace("URI", uri, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("smile \uFFFD", TextOf(answer, r => r.GetProperty("contents")[0]));
    }

    /// <summary>
    /// The same server over Streamable HTTP, answering with SSE streams and with JSON bodies: the hub reads both through
    /// the SDK's HTTP transport, where the half is read as U+FFFD too, for a tool's answer and a resource's text.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [Trait("Issue12", "fidelity")]
    public async Task HttpUpstream_CutsAnEmojiInHalf_TheClientGetsTheAnswers(bool jsonBodies)
    {
        using var env = new TestEnvironment();
        var cut = Servers.Cut("io.cut");
        await using var server = ChildProcess.Start("node", [.. ((StdioTransport)cut.Transport).Args, "http", .. jsonBodies ? new[] { "json" } : []]);
        var port = (await server.WaitForLineAsync(l => l.StartsWith("listening on ", StringComparison.Ordinal)))["listening on ".Length..].Trim();
        await env.WriteManifestAsync(Servers.Manifest("io.cut", new HttpTransport { Url = new Uri($"http://127.0.0.1:{port}/mcp") }));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway);

        var call = await session.PostAsync("""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"io_cut__cut","arguments":{"text":"smile \ud83d\ude42","length":7}}}""");
        var read = await session.PostAsync("""{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"cut://emoji"}}""");

        Assert.Equal("smile \uFFFD", TextOf(call, r => r.GetProperty("content")[0]));
        Assert.Equal("smile \uFFFD", TextOf(read, r => r.GetProperty("contents")[0]));
    }

    /// <summary>The same server on a Unix socket (how Mmcp apps serve), read through the SDK's stream transport: the half is read as U+FFFD there too.</summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task SocketServer_CutsAnEmojiInHalf_TheClientGetsTheAnswer()
    {
        using var env = new TestEnvironment();
        var cut = Servers.Cut("io.cut");
        var path = Path.Combine(env.Root, "cut.sock");
        await using var server = ChildProcess.Start("node", [.. ((StdioTransport)cut.Transport).Args, "socket", path]);
        await server.WaitForLineAsync(l => l.StartsWith("listening on ", StringComparison.Ordinal));
        await env.WriteManifestAsync(Servers.Manifest("io.cut", new SocketTransport { Path = path }));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway);

        var call = await session.PostAsync("""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"io_cut__cut","arguments":{"text":"smile \ud83d\ude42","length":7}}}""");

        Assert.Equal("smile \uFFFD", TextOf(call, r => r.GetProperty("content")[0]));
    }

    /// <summary>server-everything echoes a message that ends in half an emoji: the client gets the answer, the lone half as U+FFFD or as the server wrote it.</summary>
    [Theory]
    [MemberData(nameof(Faces))]
    [Trait("Issue12", "fidelity")]
    public async Task ToolsCall_AnswerWithALoneSurrogate_ReachesTheClient(string route, bool watched)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything(Everything));
        await using var gateway = await GatewayHost.StartAsync(env);
        using var tap = watched ? gateway.Hub.ObserveTraffic(Everything, _ => { }) : null;
        var session = await RawSession.OpenAsync(gateway, path: route);
        var tool = route == "/mcp" ? "io_ev__echo" : "echo";

        var answer = await session.PostAsync("""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"TOOL","arguments":{"message":"cut \ud83d"}}}""".Replace("TOOL", tool, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var payload = answer.Payload;
        using var document = JsonDocument.Parse(payload);
        Assert.True(document.RootElement.TryGetProperty("result", out var result), payload);
        Assert.False(result.TryGetProperty("isError", out var isError) && isError.GetBoolean(), payload);
        var text = result.GetProperty("content")[0].GetProperty("text");
        Assert.True(text.ValueEquals("Echo: cut \uFFFD") || payload.Contains("""Echo: cut \ud83d""", StringComparison.Ordinal), payload);
    }

    /// <summary>The text of the first content block of a result (the one <paramref name="block"/> picks), the call not an error.</summary>
    private static string TextOf(Answer answer, Func<JsonElement, JsonElement> block)
    {
        var payload = answer.Payload;
        using var document = JsonDocument.Parse(payload);
        Assert.True(document.RootElement.TryGetProperty("result", out var result), payload);
        Assert.False(result.TryGetProperty("isError", out var isError) && isError.GetBoolean(), payload);
        return block(result).GetProperty("text").GetString()!;
    }
}
