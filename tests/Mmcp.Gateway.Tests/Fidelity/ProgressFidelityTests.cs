using System.Net;
using System.Text.Json.Nodes;

namespace Mmcp.Gateway.Tests.Fidelity;

/// <summary>A server's <c>notifications/progress</c> reaches the client as the server wrote it, on every face that relays progress.</summary>
[Trait("Speed", "slow")]
public sealed class ProgressFidelityTests
{
    public static TheoryData<string, bool, string> Faces => new()
    {
        { "/mcp", true, "\"p9\"" }, // the hub's shared connection, behind the aggregated session
        { "/mcp", true, "9" }, // a number token comes back a number
        { "/servers/io.test.alpha/mcp", true, "\"p9\"" }, // an upstream session of the client's own
        { "/servers/io.test.alpha/mcp", false, "\"p9\"" }, // --shared-upstream: the hub's connection
    };

    /// <summary>
    /// Regression: progress relayed through the hub was written again from the SDK's ProgressNotificationValue, so a
    /// vendor's field and <c>_meta</c> were dropped. Now only the token changes (back to the client's own).
    /// </summary>
    [Theory]
    [MemberData(nameof(Faces))]
    public async Task ToolsCall_ProgressWithFieldsNoRevisionDefines_ArrivesAsTheServerWroteIt(string route, bool dedicated, string token)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.DedicatedUpstreamSessions = dedicated);
        var session = await RawSession.OpenAsync(gateway, path: route);
        var tool = route == "/mcp" ? "io_test_alpha__progress" : "progress";

        var call = """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"TOOL","arguments":{"steps":2,"vendor":"v"},"_meta":{"progressToken":TOKEN}}}""";
        var answer = await session.PostAsync(call.Replace("TOOL", tool, StringComparison.Ordinal).Replace("TOKEN", token, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var events = answer.Body.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => JsonNode.Parse(l["data:".Length..])!).ToList();
        var progress = events.Where(e => (string?)e["method"] == "notifications/progress").Select(e => e["params"]!).ToList();
        Assert.Equal(2, progress.Count);
        for (var i = 1; i <= 2; i++)
        {
            var expected = JsonNode.Parse(Expected(token, i))!;
            Assert.True(JsonNode.DeepEquals(expected, progress[i - 1]), $"expected {expected.ToJsonString()}\nactual   {progress[i - 1]!.ToJsonString()}");
        }

        Assert.Equal("done 2", (string?)events[^1]["result"]?["content"]?[0]?["text"]);
    }

    /// <summary>The params of the test server's progress notification <paramref name="step"/> of 2 (its tool <c>progress</c> with <c>vendor</c> "v"), with the client's token.</summary>
    internal static string Expected(string token, int step) =>
        """{"progressToken":TOKEN,"progress":STEP,"total":2,"message":"step STEP","x-vendor":"v","_meta":{"io.example/step":STEP}}"""
            .Replace("TOKEN", token, StringComparison.Ordinal)
            .Replace("STEP", step.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
