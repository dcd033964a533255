using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Tests.Cli;

/// <summary>
/// <c>mmcp serve</c> runs socket completions on the runtime's socket event thread, so the direct lane of a
/// <c>tools/call</c> runs from the socket read to the write to the server's stdin on the thread every socket waits on.
/// Nothing a server does may hold that thread: a server that stops reading fills its pipe, and the calls to it wait
/// while everything else goes on. Child processes do not inherit the setting.
/// </summary>
public sealed partial class ServeInlineIoTests
{
    private static string Mmcp => Path.Combine(AppContext.BaseDirectory, "mmcp.dll");

    /// <summary>
    /// A server stopped with SIGSTOP is sent more than its pipe holds (24 calls of 8 KiB, one after another). Every one
    /// of those requests still reaches the send (the traffic tap shows each), another server's calls and <c>/health</c>
    /// answer meanwhile, and once the server goes on, every stuck call is answered.
    /// </summary>
    [Fact]
    [Trait("Issue12", "8")]
    [Trait("Speed", "slow")]
    public async Task Serve_AServerThatStopsReading_HoldsNoOtherCall_AndItsCallsAnswerWhenItGoesOn()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGSTOP is a POSIX signal.");
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await env.WriteManifestAsync(Servers.TestServer("io.test.beta"));
        await using var serve = ChildProcess.Start("dotnet", [Mmcp, "serve", "--port", "0", "--no-import"], env.Variables);
        var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;
        await using var client = await ConnectAsync(url);
        var pid = int.Parse(Text(await client.CallToolAsync("io_test_alpha__pid", cancellationToken: TestContext.Current.CancellationToken)), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("echo: ready", Text(await client.CallToolAsync("io_test_beta__echo", new Dictionary<string, object?> { ["text"] = "ready" }, cancellationToken: TestContext.Current.CancellationToken)));
        await using var inspect = ChildProcess.Start("dotnet", [Mmcp, "inspect", "io.test.alpha"], env.Variables);
        await inspect.WaitForLineAsync(l => l.Contains("Watching io.test.alpha", StringComparison.Ordinal));

        // Raw JSON-RPC posts, as the bench's clients send them: calls of a session that declared no capabilities take
        // the direct lane, which runs on the socket event thread.
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var session = await OpenSessionAsync(http, url);
        await SignalAsync("STOP", pid);
        List<Task<string>> stuck;
        var connections = new List<HttpClient>();
        try
        {
            // One call at a time, each sent when the one before has reached the send (the traffic tap prints it before
            // the write), so every write is made by the thread that read the request, never queued behind another.
            // The pipe is full after about 8 of them; the next request is read only if no thread is stuck in a write.
            // Each call goes on a connection that has carried a call before, as a client's keep-alive connections do:
            // a request on such a connection is read by the socket event thread (a new connection starts elsewhere).
            var text = new string('x', 8 * 1024);
            stuck = [];
            for (var i = 0; i < 24; i++)
            {
                var connection = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
                connections.Add(connection);
                await CallAsync(connection, url, session, 200 + i, "io_test_beta__echo", "warm");
                stuck.Add(CallAsync(connection, url, session, 100 + i, "io_test_alpha__echo", text));
                var seen = 0;
                var count = stuck.Count;
                try
                {
                    await inspect.WaitForLineAsync(l => l.Contains("→ request", StringComparison.Ordinal) && l.Contains("tools/call", StringComparison.Ordinal) && ++seen == count);
                }
                catch (TimeoutException ex)
                {
                    throw new TimeoutException($"Request {count} did not reach the send. mmcp inspect printed:\n{inspect.Output}\nmmcp serve printed:\n{serve.Output}", ex);
                }
            }

            Assert.All(stuck, s => Assert.False(s.IsCompleted));
            Assert.Contains("echo: meanwhile", await CallAsync(http, url, session, 1, "io_test_beta__echo", "meanwhile").WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken), StringComparison.Ordinal);
            using var health = await http.GetAsync(url + "/health", TestContext.Current.CancellationToken).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        finally
        {
            await SignalAsync("CONT", pid);
        }

        var answers = await Task.WhenAll(stuck).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        Assert.All(answers, a => Assert.Contains("echo: xxxx", a, StringComparison.Ordinal));
        connections.ForEach(c => c.Dispose());
    }

    /// <summary>The runtime setting <c>mmcp serve</c> turns on for itself is not passed on to the servers it starts.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Serve_TheServersItStarts_DoNotInheritInlineSocketCompletions()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var serve = ChildProcess.Start("dotnet", [Mmcp, "serve", "--port", "0", "--no-import"], env.Variables);
        var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;
        await using var client = await ConnectAsync(url);

        var seen = Text(await client.CallToolAsync("io_test_alpha__get_env", new Dictionary<string, object?> { ["name"] = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS" }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("(unset)", seen);
    }

    private static Task<McpClient> ConnectAsync(string url) => McpClient.CreateAsync(
        new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(url + "/mcp"), TransportMode = HttpTransportMode.StreamableHttp }),
        new McpClientOptions { ProtocolVersion = "2025-06-18" },
        cancellationToken: TestContext.Current.CancellationToken);

    private static async Task<string> OpenSessionAsync(HttpClient http, string url)
    {
        using var initialize = await PostAsync(http, url, null, """{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1.0"}}}""");
        var session = initialize.Headers.GetValues("Mcp-Session-Id").Single();
        using var initialized = await PostAsync(http, url, session, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        return session;
    }

    private static async Task<string> CallAsync(HttpClient http, string url, string session, int id, string tool, string text)
    {
        using var response = await PostAsync(http, url, session, "{\"jsonrpc\":\"2.0\",\"id\":" + id.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":{\"text\":\"" + text + "\"}}}");
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string url, string? session, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url + "/mcp") { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (session is not null)
        {
            request.Headers.Add("Mcp-Session-Id", session);
            request.Headers.Add("MCP-Protocol-Version", "2025-06-18");
        }

        var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        return response;
    }

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;

    private static async Task SignalAsync(string signal, int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        Assert.Equal(0, kill.ExitCode);
    }

    [GeneratedRegex(@"http://[0-9.]+:\d+")]
    private static partial Regex UrlPattern();
}
