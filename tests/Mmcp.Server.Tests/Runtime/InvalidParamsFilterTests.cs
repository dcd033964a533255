using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;

namespace Mmcp.Server.Tests.Runtime;

/// <summary>
/// Regression: a request whose params had a member of the wrong JSON type (<c>resources/read</c> with <c>"uri": 5</c>)
/// was answered -32603 "An error occurred." (the SDK failed to read the params); JSON-RPC says -32602 Invalid params.
/// Raw JSON-RPC over a real server's socket.
/// </summary>
public sealed class InvalidParamsFilterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string> WrongTypes => new()
    {
        { "resources/read", """{"uri":5}""", "'uri' must be a string" },
        { "resources/read", """{}""", "'uri'" },
        { "resources/subscribe", """{"uri":{"a":1}}""", "'uri' must be a string" },
        { "prompts/get", """{"name":5}""", "'name' must be a string" },
        { "prompts/get", """{"name":"greet","arguments":[1]}""", "'arguments' must be an object" },
        { "completion/complete", """{"ref":5,"argument":{"name":"name","value":"A"}}""", "'ref' must be an object" },
        { "completion/complete", """{"ref":{"type":"ref/prompt","name":7},"argument":{"name":"name","value":"A"}}""", "'ref.name' must be a string" },
        { "completion/complete", """{"ref":{"type":"ref/nope"},"argument":{"name":"name","value":"A"}}""", "'ref.type' must be" },
        { "completion/complete", """{"ref":{"type":"ref/prompt","name":"greet"},"argument":5}""", "'argument' must be an object" },
        { "tools/call", """{"name":5}""", "'name'" },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public async Task Request_ParamOfTheWrongType_AnswersInvalidParamsNamingIt(string method, string parameters, string names)
    {
        using var env = new TestEnvironment();
        // A server with completions: one without answers completion/complete -32601, whatever its params.
        using var host = TestServer.Build(env, mcp: server => server.WithCompleteHandler((_, _) => ValueTask.FromResult(new CompleteResult())));
        await host.StartAsync(Ct);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(TestServer.SocketPath(host)), Ct);
        await using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        await SendAsync(stream, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct);
        await SendAsync(stream, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");

        await SendAsync(stream, $$"""{"jsonrpc":"2.0","id":2,"method":"{{method}}","params":{{parameters}}}""");
        var line = await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct);

        using var answer = JsonDocument.Parse(line!);
        var error = answer.RootElement.GetProperty("error");
        Assert.Equal(2, answer.RootElement.GetProperty("id").GetInt32());
        Assert.Equal(-32602, error.GetProperty("code").GetInt32());
        Assert.Contains(names, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        // The same request with params of the right types still works.
        await SendAsync(stream, """{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"test://items/42"}}""");
        Assert.Contains("item 42", await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct), StringComparison.Ordinal);
        await SendAsync(stream, """{"jsonrpc":"2.0","id":4,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"greet"},"argument":{"name":"name","value":"A"}}}""");
        Assert.Contains("\"result\"", await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct), StringComparison.Ordinal);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task CompletionComplete_ServerWithoutCompletions_StaysMethodNotFound()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env);
        await host.StartAsync(Ct);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(TestServer.SocketPath(host)), Ct);
        await using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        await SendAsync(stream, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct);
        await SendAsync(stream, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");

        await SendAsync(stream, """{"jsonrpc":"2.0","id":2,"method":"completion/complete","params":{"ref":5}}""");
        var line = await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct);

        using var answer = JsonDocument.Parse(line!);
        Assert.Equal(-32601, answer.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        await host.StopAsync(Ct);
    }

    private static async Task SendAsync(Stream stream, string line) =>
        await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), Ct);
}
