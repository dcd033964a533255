using System.Text.Json;
using System.Text.RegularExpressions;

namespace Mmcp.Gateway.Tests.Interop;

/// <summary>The official TypeScript SDK client and the MCP Inspector CLI against the gateway, with server-everything (stdio) behind the hub.</summary>
[Trait("Speed", "slow")]
public sealed partial class InteropTests
{
    [Theory]
    [InlineData("/mcp")]
    [InlineData("/servers/local.everything/mcp")]
    public async Task TypeScriptSdkClient_AgainstGateway_PassesEveryCheck(string path)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything());
        await using var gateway = await GatewayHost.StartAsync(env);

        var (exit, stdout, stderr) = await Run.ProcessAsync(
            "node",
            [Path.Combine(AppContext.BaseDirectory, "Interop", "interop.mjs"), gateway.Url + path],
            new Dictionary<string, string> { ["MCP_SDK_DIR"] = Servers.NpmPackage("@modelcontextprotocol/sdk") });

        var summary = Summary().Match(stdout);
        Assert.True(summary.Success, $"no summary line; stdout:\n{stdout}\nstderr:\n{stderr}");
        Assert.True(exit == 0 && summary.Groups[2].Value == "0", stdout);
        Assert.True(int.Parse(summary.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 8, stdout);
    }

    [Fact]
    public async Task InspectorCli_ListsAndCallsTools_ThroughGateway()
    {
        var node = Servers.Node22();
        Assert.SkipWhen(node is null, "Node 22 is not installed (eng/node22): the MCP Inspector 2.12.0 needs it. Run ./eng/install-deps.sh.");
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Everything());
        await using var gateway = await GatewayHost.StartAsync(env);
        var inspector = Servers.NpmPackage(Path.Combine("@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js"));
        var home = new Dictionary<string, string> { ["HOME"] = env.Home };

        var list = await Run.ProcessAsync(node!, [inspector, "--cli", gateway.Url + "/mcp", "--method", "tools/list", "--format", "json"], home);
        Assert.True(list.ExitCode == 0, $"{list.Stdout}\n{list.Stderr}");
        var root = JsonDocument.Parse(JsonStart(list.Stdout)).RootElement;
        var names = (root.TryGetProperty("result", out var result) ? result : root).GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.True(names.Contains("local_everything__echo"), list.Stdout);

        var call = await Run.ProcessAsync(node!, [inspector, "--cli", gateway.Url + "/mcp", "--method", "tools/call", "--tool-name", "local_everything__echo", "--tool-arg", "message=hello-from-inspector", "--format", "json"], home);
        Assert.True(call.ExitCode == 0, $"{call.Stdout}\n{call.Stderr}");
        Assert.Contains("Echo: hello-from-inspector", call.Stdout, StringComparison.Ordinal);
    }

    private static string JsonStart(string text) => text[text.IndexOf('{', StringComparison.Ordinal)..];

    [GeneratedRegex(@"^(\d+) passed, (\d+) failed$", RegexOptions.Multiline)]
    private static partial Regex Summary();
}
