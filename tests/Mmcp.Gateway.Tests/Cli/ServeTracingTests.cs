using System.Net;
using System.Text.RegularExpressions;

namespace Mmcp.Gateway.Tests.Cli;

/// <summary>Traces of the built <c>mmcp serve</c>, read through <c>mmcp inspect --spans</c>.</summary>
public sealed partial class ServeTracingTests
{
    private static string Mmcp => Path.Combine(AppContext.BaseDirectory, "mmcp.dll");

    /// <summary>Two REST calls through <c>mmcp serve</c> (the first connects the server and loads the catalog) are two
    /// traces, each with its gateway span (under ASP.NET Core's request span) and the hub's span under that.</summary>
    [Fact]
    [Trait("Issue15", "trace-isolation")]
    [Trait("Speed", "slow")]
    public async Task Serve_TwoRestCalls_AreTwoTracesEachWithGatewayAndHubSpans()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var serve = ChildProcess.Start("dotnet", [Mmcp, "serve", "--port", "0", "--no-import"], env.Variables);
        var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;
        await using var inspect = ChildProcess.Start("dotnet", [Mmcp, "inspect", "--spans"], env.Variables);
        await inspect.WaitForLineAsync(l => l.Contains("Watching the spans of every server", StringComparison.Ordinal)); // recording from here
        using var http = new HttpClient { Timeout = TestTimeouts.Default };

        var calls = new List<Match>();
        for (var i = 0; i < 2; i++)
        {
            using var response = await http.PostAsync(url + "/mcp/tools/call", new StringContent("""{"name":"io_test_alpha__echo","arguments":{"text":"x"}}""", System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var line = await inspect.WaitForLineAsync(l => SpanLine().Match(l) is { Success: true } m && m.Groups["source"].Value == "Mmcp.Gateway" && calls.All(c => c.Groups["span"].Value != m.Groups["span"].Value));
            calls.Add(SpanLine().Match(line));
        }

        Assert.NotEqual(calls[0].Groups["trace"].Value, calls[1].Groups["trace"].Value);
        foreach (var call in calls)
        {
            await inspect.WaitForLineAsync(l => SpanLine().Match(l) is { Success: true } m && m.Groups["source"].Value == "Mmcp.Client"
                && m.Groups["trace"].Value == call.Groups["trace"].Value && m.Groups["parent"].Value == call.Groups["span"].Value);
        }
    }

    [GeneratedRegex(@"http://[0-9.]+:\d+")]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"(?<source>Mmcp\.\w+|Experimental\.ModelContextProtocol) trace (?<trace>\w{8}) span (?<span>\w{8})(?: ← (?<parent>\w{8}))?")]
    private static partial Regex SpanLine();
}
