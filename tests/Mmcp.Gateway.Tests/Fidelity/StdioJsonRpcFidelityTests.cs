using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Mmcp.Gateway.Tests.Fidelity;

/// <summary>The JSON-RPC errors the spec names, on <c>mmcp stdio</c> (a real process over a real upstream).</summary>
[Trait("Speed", "slow")]
public sealed class StdioJsonRpcFidelityTests
{
    private static string Mmcp => Path.Combine(AppContext.BaseDirectory, "mmcp.dll");

    /// <summary>On stdio, a tool's result reaches the client as the server wrote it: a vendor's field and an instant in the server's notation included.</summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task Stdio_ToolResult_IsTheServersOwnJson()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        using var process = StartStdio(env);
        try
        {
            await InitializeAsync(process);
            await SendAsync(process, """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"io_cut__rich","arguments":{}}}""");
            var result = System.Text.Json.Nodes.JsonNode.Parse((await ReadAnswerAsync(process, "2")).GetProperty("result").GetRawText())!;

            var expected = System.Text.Json.Nodes.JsonNode.Parse(ContentFidelityTests.Rich)!;
            Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(expected, result), $"expected {expected.ToJsonString()}\nactual   {result.ToJsonString()}");
        }
        finally
        {
            Stop(process);
        }
    }

    /// <summary>Regression: on stdio a server's progress lost the fields the SDK's type does not know (a vendor's field, <c>_meta</c>); only the token changes now.</summary>
    [Fact]
    public async Task Stdio_Progress_IsTheServersOwnJsonWithTheClientsToken()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        using var process = StartStdio(env);
        try
        {
            await InitializeAsync(process);
            await SendAsync(process, """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"io_test_alpha__progress","arguments":{"steps":2,"vendor":"v"},"_meta":{"progressToken":7}}}""");
            var notifications = new List<JsonElement>();
            var answer = await ReadAnswerAsync(process, "2", messages: notifications);

            var progress = notifications.Where(n => n.GetProperty("method").GetString() == "notifications/progress").Select(n => System.Text.Json.Nodes.JsonNode.Parse(n.GetProperty("params").GetRawText())!).ToList();
            Assert.Equal(2, progress.Count);
            for (var i = 1; i <= 2; i++)
            {
                var expected = System.Text.Json.Nodes.JsonNode.Parse(ProgressFidelityTests.Expected("7", i))!;
                Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(expected, progress[i - 1]), $"expected {expected.ToJsonString()}\nactual   {progress[i - 1]!.ToJsonString()}");
            }

            Assert.Contains("done 2", answer.GetProperty("result").ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Stop(process);
        }
    }

    /// <summary>On stdio, a tools/call without a name or with non-object arguments is -32602, and malformed JSON is -32700.</summary>
    [Fact]
    [Trait("Issue12", "5")]
    public async Task Stdio_MalformedJsonAndBadToolsCall_AnswerTheSpecsCodes()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        using var process = StartStdio(env);
        try
        {
            await InitializeAsync(process);

            var noName = await RequestAsync(process, """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{}}}""", "2");
            var stringArguments = await RequestAsync(process, """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"io_test_alpha__echo","arguments":"hello"}}""", "3");
            var malformed = await RequestAsync(process, """{"jsonrpc":"2.0","id":4,"method":""", null);
            var works = await RequestAsync(process, """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"io_test_alpha__echo","arguments":{"text":"still here"}}}""", "5");

            Assert.Equal(-32602, noName.GetProperty("error").GetProperty("code").GetInt32());
            Assert.Equal(-32602, stringArguments.GetProperty("error").GetProperty("code").GetInt32());
            Assert.Equal(-32700, malformed.GetProperty("error").GetProperty("code").GetInt32());
            Assert.Contains("still here", works.GetProperty("result").ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Stop(process);
        }
    }

    /// <summary>
    /// Regression: on stdio a <c>resources/read</c> with <c>{"uri": 5}</c> (and the other params of the wrong JSON type
    /// below) answered -32603 "An error occurred."; JSON-RPC says -32602 Invalid params, naming the param.
    /// </summary>
    [Fact]
    public async Task Stdio_ParamOfTheWrongType_AnswersInvalidParamsNamingIt()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        using var process = StartStdio(env);
        try
        {
            await InitializeAsync(process);

            var uriNumber = await RequestAsync(process, """{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":5}}""", "2");
            var subscribeObject = await RequestAsync(process, """{"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":{"a":1}}}""", "3");
            var promptNumber = await RequestAsync(process, """{"jsonrpc":"2.0","id":4,"method":"prompts/get","params":{"name":5}}""", "4");
            var refNumber = await RequestAsync(process, """{"jsonrpc":"2.0","id":5,"method":"completion/complete","params":{"ref":5,"argument":{"name":"name","value":"A"}}}""", "5");
            var works = await RequestAsync(process, """{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"test://items/7"}}""", "6");

            foreach (var (answer, names) in new (JsonElement, string)[] { (uriNumber, "'uri' must be a string"), (subscribeObject, "'uri' must be a string"), (promptNumber, "'name' must be a string"), (refNumber, "'ref' must be an object") })
            {
                Assert.Equal(-32602, answer.GetProperty("error").GetProperty("code").GetInt32());
                Assert.Contains(names, answer.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            }

            Assert.Contains("item 7", works.GetProperty("result").ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Stop(process);
        }
    }

    /// <summary>
    /// Regression: on stdio an invalid <c>logging/setLevel</c> level answered -32603 "An error occurred." and logged a
    /// JsonException's stack trace. MCP's logging spec says -32602 Invalid params; the message names the levels.
    /// </summary>
    [Fact]
    public async Task Stdio_LoggingSetLevelInvalidLevel_AnswersInvalidParamsNamingTheLevels()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        using var process = StartStdio(env);
        try
        {
            await InitializeAsync(process);

            var bogus = await RequestAsync(process, """{"jsonrpc":"2.0","id":9,"method":"logging/setLevel","params":{"level":"bogus"}}""", "9");
            var missing = await RequestAsync(process, """{"jsonrpc":"2.0","id":10,"method":"logging/setLevel","params":{}}""", "10");
            var number = await RequestAsync(process, """{"jsonrpc":"2.0","id":11,"method":"logging/setLevel","params":{"level":true}}""", "11");
            var valid = await RequestAsync(process, """{"jsonrpc":"2.0","id":12,"method":"logging/setLevel","params":{"level":"error"}}""", "12");

            foreach (var answer in (JsonElement[])[bogus, missing, number])
            {
                Assert.Equal(-32602, answer.GetProperty("error").GetProperty("code").GetInt32());
                Assert.Contains("debug, info, notice, warning, error, critical, alert, emergency", answer.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            }

            Assert.True(valid.TryGetProperty("result", out _), valid.ToString());
        }
        finally
        {
            Stop(process);
        }
    }

    /// <summary>
    /// Regression: requests written all at once and followed by the end of standard input got no answer at all
    /// (<c>printf … | mmcp stdio</c> printed nothing and exited 0; a long tool ran to completion, its result never
    /// written). The end of input ended the SDK's session, whose transport drops what is sent after it. Now every
    /// request already read is answered, a call that takes a while included, and then the process exits 0.
    /// </summary>
    [Fact]
    public async Task Stdio_InputEndsWithRequestsInFlight_AnswersEveryRequestThenExits()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        using var process = StartStdio(env);
        try
        {
            string[] lines =
            [
                """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""",
                """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
                """{"jsonrpc":"2.0","id":2,"method":"ping"}""",
                """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"io_test_alpha__echo","arguments":{"text":"before the end"}}}""",
                """{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"io_test_alpha__wait","arguments":{"milliseconds":1500}}}""",
            ];
            var ct = TestContext.Current.CancellationToken;
            await process.StandardInput.WriteAsync(string.Join('\n', lines) + "\n");
            process.StandardInput.Close();

            var output = await process.StandardOutput.ReadToEndAsync(ct).WaitAsync(TestTimeouts.Default, ct);
            await process.WaitForExitAsync(ct).WaitAsync(TestTimeouts.Default, ct);

            var answers = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement)
                .Where(message => message.TryGetProperty("id", out _))
                .ToDictionary(message => message.GetProperty("id").ToString(), message => message);
            Assert.Equal(["1", "2", "3", "slow"], answers.Keys.Order(StringComparer.Ordinal));
            Assert.Contains("echo: before the end", answers["3"].GetProperty("result").ToString(), StringComparison.Ordinal);
            Assert.Contains("waited 1500 ms", answers["slow"].GetProperty("result").ToString(), StringComparison.Ordinal);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>While mmcp stdio answers what it read after its input ended, a second signal (SIGINT, as Ctrl+C sends)
    /// stops it at once: the call still running (ten minutes long) is cancelled, not waited for.</summary>
    [Fact]
    public async Task Stdio_InputEndedThenInterrupted_StopsWithoutWaitingForTheCall()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        using var process = StartStdio(env);
        try
        {
            var ct = TestContext.Current.CancellationToken;
            await process.StandardInput.WriteAsync(
                """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""" + "\n"
                + """{"jsonrpc":"2.0","method":"notifications/initialized"}""" + "\n"
                + """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"io_test_alpha__wait","arguments":{"milliseconds":600000}}}""" + "\n");
            process.StandardInput.Close();
            await ReadAnswerAsync(process, "1"); // every line was read before this answer went out: the call is in flight

            using (var interrupt = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await interrupt.WaitForExitAsync(ct);
            }

            await process.WaitForExitAsync(ct).WaitAsync(TestTimeouts.Default, ct);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>
    /// The lifecycle: before the client said <c>notifications/initialized</c>, <c>mmcp stdio</c> sent it
    /// <c>list_changed</c> notifications, some even before the initialize result (the hub was still discovering its
    /// servers, or the registry changed), when the client cannot yet know the capability they belong to. Now nothing
    /// comes before that but answers: the client lists after initializing anyway. After it, a change is announced.
    /// </summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task Stdio_BeforeTheClientIsInitialized_SendsNoListChanged()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        using var process = StartStdio(env);
        var notifications = new List<string>();
        try
        {
            Task SendAsync(string line) => StdioJsonRpcFidelityTests.SendAsync(process, line);
            Task<JsonElement> ReadAnswerAsync(string id) => StdioJsonRpcFidelityTests.ReadAnswerAsync(process, id, notifications);

            await SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
            await ReadAnswerAsync("1");

            // A server appears in the registry while the client has not said initialized; the hub sees it (its tool is
            // listed), then one more answer makes sure whatever the change sent was written before it.
            await env.WriteManifestAsync(Servers.TestServer("io.test.beta"));
            for (var i = 2; ; i++)
            {
                await SendAsync($$"""{"jsonrpc":"2.0","id":{{i}},"method":"tools/list"}""");
                if ((await ReadAnswerAsync(i.ToString(CultureInfo.InvariantCulture))).ToString().Contains("io_test_beta__echo", StringComparison.Ordinal))
                {
                    break;
                }
            }

            await SendAsync("""{"jsonrpc":"2.0","id":"last","method":"ping"}""");
            await ReadAnswerAsync("last");
            Assert.Empty(notifications);

            // Initialized: a change is announced.
            await SendAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
            await env.WriteManifestAsync(Servers.TestServer("io.test.gamma"));
            while (!notifications.Contains("notifications/tools/list_changed"))
            {
                await SendAsync("""{"jsonrpc":"2.0","id":"wait","method":"ping"}""");
                await ReadAnswerAsync("wait");
            }
        }
        finally
        {
            Stop(process);
        }
    }

    /// <summary>Says initialize (2025-06-18), waits for its answer, and says initialized.</summary>
    private static async Task InitializeAsync(Process process)
    {
        await SendAsync(process, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        await ReadAnswerAsync(process, "1");
        await SendAsync(process, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
    }

    /// <summary>Sends one request line and reads the answer with <paramref name="id"/> (or, with null, the next answer).</summary>
    private static async Task<JsonElement> RequestAsync(Process process, string line, string? id)
    {
        await SendAsync(process, line);
        return await ReadAnswerAsync(process, id);
    }

    private static async Task SendAsync(Process process, string line)
    {
        await process.StandardInput.WriteLineAsync(line.AsMemory(), TestContext.Current.CancellationToken);
        await process.StandardInput.FlushAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Reads until the answer with that id (a null id when <paramref name="id"/> is null); the methods of notifications on the way go to <paramref name="notifications"/>, the notifications themselves to <paramref name="messages"/>.</summary>
    private static async Task<JsonElement> ReadAnswerAsync(Process process, string? id, List<string>? notifications = null, List<JsonElement>? messages = null)
    {
        var ct = TestContext.Current.CancellationToken;
        while (true)
        {
            var line = await process.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TestTimeouts.Default, ct) ?? throw new InvalidOperationException("mmcp stdio closed its output.");
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (!root.TryGetProperty("id", out var answered))
            {
                notifications?.Add(root.GetProperty("method").GetString()!);
                messages?.Add(root.Clone());
            }
            else if (id is null ? answered.ValueKind == JsonValueKind.Null : answered.ToString() == id)
            {
                return root.Clone();
            }
        }
    }

    /// <summary>Starts <c>mmcp stdio</c> on the environment's registry (standard error drained).</summary>
    private static Process StartStdio(TestEnvironment env)
    {
        var start = new ProcessStartInfo("dotnet", [Mmcp, "stdio", "--no-import"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in env.Variables)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        return process;
    }

    /// <summary>Closes its standard input (which ends it), killing it if it does not end.</summary>
    private static void Stop(Process process)
    {
        process.StandardInput.Close();
        if (!process.WaitForExit(TestTimeouts.Default))
        {
            process.Kill(entireProcessTree: true);
        }
    }
}
