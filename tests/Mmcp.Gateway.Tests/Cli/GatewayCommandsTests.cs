using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Tests.Cli;

/// <summary>The gateway's commands of the built <c>mmcp</c>, run as child processes.</summary>
[Trait("Speed", "slow")]
public sealed partial class GatewayCommandsTests
{
    private static string Mmcp => Path.Combine(AppContext.BaseDirectory, "mmcp.dll");

    [Fact]
    public async Task Serve_PortZero_PrintsTheUrlItListensOn()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var serve = ChildProcess.Start("dotnet", [Mmcp, "serve", "--port", "0", "--no-import"], env.Variables);
        var line = await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal));
        var url = UrlPattern().Match(line).Value;
        using var http = new HttpClient();

        var health = await http.GetStringAsync(url + "/health", TestContext.Current.CancellationToken);
        var runtime = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(env.RuntimeDirectory, "gateway.json"), TestContext.Current.CancellationToken)).RootElement;

        Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);
        Assert.Contains("io.test.alpha", health, StringComparison.Ordinal);
        Assert.Equal(url, runtime.GetProperty("url").GetString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(env.RuntimeDirectory, "gateway.json")));
    }

    /// <summary>Search mode ranks with BM25 plus local embeddings unless --lexical-search says BM25 alone; /health says which.</summary>
    [Theory]
    [Trait("Issue12", "7")]
    [InlineData(false, "hybrid")]
    [InlineData(true, "bm25")]
    public async Task Serve_SearchMode_HealthSaysTheRanking_LexicalSearchTurnsEmbeddingsOff(bool lexical, string ranking)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        string[] args = [Mmcp, "serve", "--port", "0", "--no-import", "--tool-mode", "search", .. lexical ? new[] { "--lexical-search" } : []];
        await using var serve = ChildProcess.Start("dotnet", args, env.Variables);
        var line = await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal));
        using var http = new HttpClient();

        var health = JsonDocument.Parse(await http.GetStringAsync(UrlPattern().Match(line).Value + "/health", TestContext.Current.CancellationToken)).RootElement;

        Assert.Equal("search", health.GetProperty("toolMode").GetString());
        Assert.Equal(ranking, health.GetProperty("searchRanking").GetString());
    }

    [Fact]
    public async Task Serve_OllamasPort_IsRefused()
    {
        using var env = new TestEnvironment();

        var (exit, _, stderr) = await Run.ProcessAsync("dotnet", [Mmcp, "serve", "--port", "11434"], env.Variables);

        Assert.Equal(2, exit);
        Assert.Contains("Ollama", stderr, StringComparison.Ordinal);
    }

    /// <summary>A port another process listens on is one clear line and exit 1 (regression: the host logged a Kestrel
    /// stack trace of some thirty lines before it).</summary>
    [Fact]
    public async Task Serve_PortTaken_OneClearLineWithoutAStackTrace()
    {
        using var env = new TestEnvironment();
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (exit, stdout, stderr) = await Run.ProcessAsync("dotnet", [Mmcp, "serve", "--port", port, "--no-import"], env.Variables);

        Assert.Equal(1, exit);
        Assert.Contains($"Cannot listen on 127.0.0.1:{port}: another process is listening on it.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr + stdout, StringComparison.Ordinal);
    }

    /// <summary>A port that is not a number is a usage error that says what --port takes (regression: the range
    /// validator read the unconvertible value and the process died with an unhandled exception, exit 134).</summary>
    [Fact]
    public async Task Serve_PortNotANumber_IsAUsageErrorSayingWhatItTakes()
    {
        using var env = new TestEnvironment();

        var (exit, _, stderr) = await Run.ProcessAsync("dotnet", [Mmcp, "serve", "--port", "abc"], env.Variables);

        Assert.Equal(2, exit);
        Assert.Contains("--port takes a port number from 0 to 65535, not 'abc'.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", stderr, StringComparison.Ordinal);
    }

    /// <summary>A number option's error names neither a CLR type nor the wrong command (regression: "as expected type
    /// 'System.Nullable`1[System.Double]'" and "Run 'mmcp create --help'").</summary>
    [Fact]
    public async Task TokenCreate_DaysNotANumber_SaysWhatTheOptionTakesAndTheWholeCommand()
    {
        using var env = new TestEnvironment();

        var (exit, _, stderr) = await Run.ProcessAsync("dotnet", [Mmcp, "token", "create", "--name", "a", "--scope", "tools:list", "--expires-in-days", "soon"], env.Variables);

        Assert.Equal(2, exit);
        Assert.Contains("--expires-in-days takes a number of days, not 'soon'.", stderr, StringComparison.Ordinal);
        Assert.Contains("Run 'mmcp token create --help' for usage.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", stderr, StringComparison.Ordinal);
    }

    /// <summary>A tool mode the gateway does not have is refused with the values it takes, as the help writes them
    /// (regression: "as expected type 'Mmcp.Gateway.GatewayToolMode'. Did you mean … All, Search").</summary>
    [Theory]
    [InlineData("serve")]
    [InlineData("stdio")]
    public async Task ToolMode_Unknown_SaysTheValuesItTakes(string command)
    {
        using var env = new TestEnvironment();

        var (exit, _, stderr) = await Run.ProcessAsync("dotnet", [Mmcp, command, "--tool-mode", "few"], env.Variables);

        Assert.Equal(2, exit);
        Assert.Contains("--tool-mode takes all or search, not 'few'.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Mmcp.Gateway", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stdio_ServesTheAggregatedHub_WithLogsOnStandardErrorOnly()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = "dotnet",
            Arguments = [Mmcp, "stdio", "--no-import", "--verbose"],
            EnvironmentVariables = env.Variables.ToDictionary(kv => kv.Key, kv => (string?)kv.Value),
        });
        // mmcp stdio is a process still starting: under load the server/discover probe must not time out into the SDK's
        // initialize fallback while the server, answering the probe late, settles on 2026-07-28 and refuses initialize.
        var options = new McpClientOptions { DiscoverProbeTimeout = TestTimeouts.Default, InitializationTimeout = TestTimeouts.Default };
        await using var client = await McpClient.CreateAsync(transport, options, cancellationToken: TestContext.Current.CancellationToken);

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var result = await client.CallToolAsync("io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "via stdio" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains(tools, t => t.Name == "io_test_alpha__add");
        Assert.Equal("echo: via stdio", ((TextContentBlock)result.Content[0]).Text);

        await client.DisposeAsync(); // the client closes standard input: mmcp stdio ends and flushes its audit log
        var audit = env.AuditPath;
        var line = await WaitForAsync(() => File.Exists(audit) ? File.ReadLines(audit).FirstOrDefault() : null);
        using var entry = JsonDocument.Parse(line);
        Assert.Equal(("stdio", "io.test.alpha", "echo"), (entry.RootElement.GetProperty("surface").GetString(), entry.RootElement.GetProperty("server").GetString(), entry.RootElement.GetProperty("tool").GetString()));
    }

    private static async Task<string> WaitForAsync(Func<string?> read)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeouts.Default);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (true)
        {
            if (read() is { } value)
            {
                return value;
            }

            await timer.WaitForNextTickAsync(timeout.Token);
        }
    }

    [Fact]
    public async Task Token_CreateListRevoke_ShowsTheSecretOnlyOnce()
    {
        using var env = new TestEnvironment();

        var created = await Run.ProcessAsync("dotnet", [Mmcp, "token", "create", "--scope", "tools:call", "--name", "laptop", "--json"], env.Variables);
        var token = JsonDocument.Parse(created.Stdout).RootElement;
        var list = await Run.ProcessAsync("dotnet", [Mmcp, "token", "list", "--json"], env.Variables);
        var badScope = await Run.ProcessAsync("dotnet", [Mmcp, "token", "create", "--scope", "everything"], env.Variables);
        var revoke = await Run.ProcessAsync("dotnet", [Mmcp, "token", "revoke", token.GetProperty("id").GetString()!], env.Variables);
        var after = await Run.ProcessAsync("dotnet", [Mmcp, "token", "list", "--json"], env.Variables);

        Assert.Equal(0, created.ExitCode);
        Assert.StartsWith("mmcp_", token.GetProperty("token").GetString(), StringComparison.Ordinal);
        Assert.Contains("laptop", list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(token.GetProperty("token").GetString()!, list.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, badScope.ExitCode);
        Assert.Contains("tools:call", badScope.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, revoke.ExitCode);
        Assert.DoesNotContain("laptop", after.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consent_DenyAllowAndList()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));

        var deny = await Run.ProcessAsync("dotnet", [Mmcp, "consent", "deny", "io.test.alpha", "add", "--no-import"], env.Variables);
        var listed = await Run.ProcessAsync("dotnet", [Mmcp, "consent", "list", "--json", "--no-import"], env.Variables);
        var allow = await Run.ProcessAsync("dotnet", [Mmcp, "consent", "allow", "io.test.alpha", "add", "--no-import"], env.Variables);
        var again = await Run.ProcessAsync("dotnet", [Mmcp, "consent", "list", "--json", "--no-import"], env.Variables);
        var unknown = await Run.ProcessAsync("dotnet", [Mmcp, "consent", "allow", "io.test.alpha", "nope", "--no-import"], env.Variables);

        Assert.Equal(0, deny.ExitCode);
        Assert.Equal("Denied", Status(listed.Stdout, "add"));
        Assert.Equal("Allowed", Status(listed.Stdout, "echo"));
        Assert.Equal(0, allow.ExitCode);
        Assert.Contains("pinned", allow.Stdout, StringComparison.Ordinal);
        Assert.Equal("Allowed", Status(again.Stdout, "add"));
        Assert.Equal(3, unknown.ExitCode);

        static string? Status(string json, string tool) => JsonDocument.Parse(json).RootElement.GetProperty("tools").EnumerateArray().Single(t => t.GetProperty("tool").GetString() == tool).GetProperty("status").GetString();
    }

    /// <summary>The CLI sees the tools the gateway exposes (regression: server-everything offers its sampling, elicitation
    /// and roots tools only to clients that declare them, which the gateway does and the CLI did not, so
    /// 'consent allow … trigger-sampling-request' said "no tool" and a held definition of it could not be approved).</summary>
    [Fact]
    public async Task Consent_ToolsOfferedOnlyToClientsThatDeclareSampling_AreListedAndAllowed()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything("io.github.everything"));

        var allow = await Run.ProcessAsync("dotnet", [Mmcp, "consent", "allow", "io.github.everything", "trigger-sampling-request", "--no-import"], env.Variables);
        var listed = await Run.ProcessAsync("dotnet", [Mmcp, "consent", "list", "--json", "--no-import"], env.Variables);

        Assert.True(allow.ExitCode == 0, allow.Stderr);
        Assert.Contains("pinned", allow.Stdout, StringComparison.Ordinal);
        var tools = JsonDocument.Parse(listed.Stdout).RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("tool").GetString()).ToList();
        Assert.Contains("trigger-sampling-request", tools);
        Assert.Contains("trigger-elicitation-request", tools);
        Assert.Contains("get-roots-list", tools);
    }

    /// <summary>A decision about a server or tool that does not exist is refused (exit 3) and stores nothing (regression:
    /// 'consent allow io.nope' and 'consent deny io.test.alpa' succeeded, a typo that leaves the meant server as it was).</summary>
    [Theory]
    [InlineData("allow", "io.test.alpa")]
    [InlineData("deny", "io.test.alpa")]
    [InlineData("deny", "io.test.alpha", "ad")]
    public async Task Consent_UnknownServerOrTool_ExitsNotFoundAndStoresNothing(string decision, string server, string? tool = null)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));

        var result = await Run.ProcessAsync("dotnet", [Mmcp, "consent", decision, server, .. tool is null ? Array.Empty<string>() : [tool], "--no-import"], env.Variables);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains(tool is null ? "io.test.alpha" : "echo", result.Stderr, StringComparison.Ordinal); // what there is instead
        Assert.False(File.Exists(env.ConsentPath), "a decision was stored");
    }

    [Fact]
    public async Task Inspect_PrintsTheTrafficOfTheRunningGateway()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var serve = ChildProcess.Start("dotnet", [Mmcp, "serve", "--port", "0", "--no-import"], env.Variables);
        var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;
        await using var inspect = ChildProcess.Start("dotnet", [Mmcp, "inspect", "io.test.alpha"], env.Variables);
        await inspect.WaitForLineAsync(l => l.Contains("Watching io.test.alpha", StringComparison.Ordinal));
        using var http = new HttpClient();

        using var response = await http.PostAsync(url + "/mcp/tools/call", new StringContent("""{"name":"io_test_alpha__echo","arguments":{"text":"x"}}""", System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        var line = await inspect.WaitForLineAsync(l => l.Contains("response", StringComparison.Ordinal) && l.Contains("tools/call", StringComparison.Ordinal) && l.Contains(" ms", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("←", line, StringComparison.Ordinal);
    }

    /// <summary><c>mmcp serve --metrics</c>: Prometheus text at /metrics on loopback, with the gateway's call metrics per
    /// server and tool in seconds.</summary>
    [Fact]
    [Trait("Issue15", "1")]
    public async Task Serve_WithMetrics_ServesPrometheusTextOnLoopback()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var serve = ChildProcess.Start("dotnet", [Mmcp, "serve", "--port", "0", "--no-import", "--metrics"], env.Variables);
        var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;
        using var http = new HttpClient { Timeout = TestTimeouts.Default };
        using var call = await http.PostAsync(url + "/mcp/tools/call", new StringContent("""{"name":"io_test_alpha__echo","arguments":{"text":"x"}}""", System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, call.StatusCode);

        var text = await http.GetStringAsync(url + "/metrics", TestContext.Current.CancellationToken);

        Assert.Contains("# TYPE mmcp_gateway_call_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Matches("mmcp_gateway_calls_total\\{[^}]*gen_ai_tool_name=\"echo\"[^}]*mmcp_server=\"io.test.alpha\"", text);
        Assert.Contains("mmcp_client_request_duration_seconds", text, StringComparison.Ordinal);
    }

    /// <summary>The scrape is for loopback only: --metrics with a LAN address is refused at startup with the fix.</summary>
    [Fact]
    [Trait("Issue15", "1")]
    public async Task Serve_WithMetricsOnANonLoopbackHost_IsRefused()
    {
        using var env = new TestEnvironment();

        var (exit, _, stderr) = await Run.ProcessAsync("dotnet", [Mmcp, "serve", "--port", "0", "--host", "192.0.2.10", "--metrics"], env.Variables);

        Assert.Equal(2, exit);
        Assert.Contains("--metrics serves /metrics to loopback connections only", stderr, StringComparison.Ordinal);
    }

    /// <summary><c>mmcp inspect --spans</c> prints the spans of a call through the running gateway: the gateway's (under
    /// the name the client called) and the hub's tools/call (its child, under the server's own name), with timing and the server, and never the call's arguments.</summary>
    [Fact]
    [Trait("Issue15", "4")]
    public async Task InspectSpans_PrintsTheSpansOfACallThroughTheRunningGateway()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var serve = ChildProcess.Start("dotnet", [Mmcp, "serve", "--port", "0", "--no-import"], env.Variables);
        var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;
        await using var inspect = ChildProcess.Start("dotnet", [Mmcp, "inspect", "--spans"], env.Variables);
        await inspect.WaitForLineAsync(l => l.Contains("Watching the spans of every server", StringComparison.Ordinal)); // recording from here
        using var http = new HttpClient { Timeout = TestTimeouts.Default };

        using var response = await http.PostAsync(url + "/mcp/tools/call", new StringContent("""{"name":"io_test_alpha__echo","arguments":{"text":"secret words 5e1f"}}""", System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        var hub = await inspect.WaitForLineAsync(l => l.Contains("tools/call echo", StringComparison.Ordinal) && l.Contains("Mmcp.Client", StringComparison.Ordinal));
        var gateway = await inspect.WaitForLineAsync(l => l.Contains("tools/call io_test_alpha__echo", StringComparison.Ordinal) && l.Contains("Mmcp.Gateway", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("io.test.alpha", hub, StringComparison.Ordinal);
        Assert.Contains(" ms", gateway, StringComparison.Ordinal);
        var span = gateway[(gateway.IndexOf(" span ", StringComparison.Ordinal) + 6)..][..8];
        Assert.EndsWith("← " + span, hub, StringComparison.Ordinal); // the hub's span is the gateway span's child
        Assert.DoesNotContain("secret words", inspect.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_OwnStoresAndAskFirst_ExposeNothingUntilAllowedInThatStore()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        var consent = Path.Combine(env.Root, "own", "consent.json");
        var audit = Path.Combine(env.Root, "own", "audit.jsonl");
        await using var serve = ChildProcess.Start("dotnet", [Mmcp, "serve", "--port", "0", "--no-import", "--consent-policy", "ask-first", "--consent-file", consent, "--audit-file", audit], env.Variables);
        var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;
        using var http = new HttpClient();
        const string Call = """{"name":"io_test_alpha__echo","arguments":{"text":"x"}}""";

        using var before = await http.PostAsync(url + "/mcp/tools/call", new StringContent(Call, System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        var allow = await Run.ProcessAsync("dotnet", [Mmcp, "consent", "allow", "io.test.alpha", "--file", consent], env.Variables);
        using var after = await http.PostAsync(url + "/mcp/tools/call", new StringContent(Call, System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, before.StatusCode);
        Assert.Contains("ConsentRequired", await before.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(0, allow.ExitCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.False(File.Exists(env.ConsentPath), "the default consent store was written");

        // The audit log is written in batches: wait for both calls to reach the file named on the command line.
        var outcomes = new List<string>();
        for (var wait = System.Diagnostics.Stopwatch.StartNew(); outcomes.Count < 2 && wait.Elapsed < TestTimeouts.Default; await Task.Delay(50, TestContext.Current.CancellationToken))
        {
            outcomes = File.Exists(audit) ? [.. (await File.ReadAllLinesAsync(audit, TestContext.Current.CancellationToken)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("outcome").GetString()!)] : [];
        }

        Assert.Equal(["refused", "ok"], outcomes);
        Assert.False(File.Exists(env.AuditPath), "the default audit log was written");
    }

    [GeneratedRegex(@"http://[0-9.]+:\d+")]
    private static partial Regex UrlPattern();
}
