using System.Text.RegularExpressions;
using ModelContextProtocol.Client;

namespace Mmcp.Gateway.Tests.Cli;

/// <summary>What <c>mmcp serve</c> prints to standard error: warnings are for what needs a look.</summary>
public sealed partial class ServeLoggingTests
{
    private static string Mmcp => Path.Combine(AppContext.BaseDirectory, "mmcp.dll");

    /// <summary>
    /// A normal session printed two warnings, one with a stack trace: the MCP SDK client's "request failed for method
    /// 'server/discover'" for every server before 2026-07-28 at every start (the protocol's fallback to initialize),
    /// and the SDK server's "request handler failed" for an answer the gateway chose (here a cursor it never gave out).
    /// Both are Debug now: printed with --verbose, as dbug.
    /// </summary>
    [Fact]
    [Trait("Issue15", "logs")]
    public async Task Serve_TheSdksRoutineWarnings_AreDebug()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything("io.ev"));
        await using var serve = ChildProcess.Start("dotnet", [Mmcp, "--verbose", "serve", "--port", "0", "--no-import"], env.Variables);
        var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;
        var ct = TestContext.Current.CancellationToken;
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(url + "/mcp"), TransportMode = HttpTransportMode.StreamableHttp }), new McpClientOptions { ProtocolVersion = "2025-11-25" }, cancellationToken: ct);

        await client.CallToolAsync("io_ev__echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: ct);
        await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => client.ListToolsAsync(new ModelContextProtocol.Protocol.ListToolsRequestParams { Cursor = "not-a-cursor" }, ct).AsTask());
        var discover = await serve.WaitForLineAsync(l => l.Contains("request failed for method 'server/discover'", StringComparison.Ordinal));
        var cursor = await serve.WaitForLineAsync(l => l.Contains("'tools/list' request handler failed", StringComparison.Ordinal));

        Assert.Equal("dbug", LevelOf(serve.Output, discover));
        Assert.Equal("dbug", LevelOf(serve.Output, cursor));
    }

    /// <summary>The level of a console entry: the line before its message ("warn: Category[id]").</summary>
    private static string LevelOf(string output, string message)
    {
        var lines = output.Split('\n');
        var at = Array.IndexOf(lines, message);
        Assert.True(at > 0, $"'{message}' is not in the output:\n{output}");
        return lines[at - 1].Split(':')[0];
    }

    [GeneratedRegex(@"http://[0-9.]+:\d+")]
    private static partial Regex UrlPattern();
}
