using System.Text.Json;

namespace Mmcp.Gateway.Tests.PassThrough;

/// <summary>The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16) through /servers/io.mmcp.conformance/mcp.</summary>
[Trait("Speed", "slow")]
public sealed class ConformanceTests
{
    [Fact]
    public async Task ConformanceSuite_ThroughPassThrough_PassesEveryCheck()
    {
        var node = Servers.Node22();
        Assert.SkipWhen(node is null, "Node 22 is not installed (eng/node22): @modelcontextprotocol/conformance needs it. Run ./eng/install-deps.sh.");
        using var env = new TestEnvironment();
        await using var target = ChildProcess.Start("dotnet", [Servers.ConformanceServerDll], new Dictionary<string, string>
        {
            ["MMCP_REGISTRY_PATH"] = env.RegistryDirectory,
            ["MMCP_RUNTIME_DIR"] = env.RuntimeDirectory,
        });
        await target.WaitForLineAsync(l => l.Contains("Registered MCP server io.mmcp.conformance", StringComparison.Ordinal));
        await using var gateway = await GatewayHost.StartAsync(env);
        var output = Path.Combine(env.Root, "conformance");

        var run = await Run.ProcessAsync(
            node!,
            [Servers.NpmPackage(Path.Combine("@modelcontextprotocol", "conformance", "dist", "index.js")), "server", "--url", gateway.Url + "/servers/io.mmcp.conformance/mcp", "--suite", "all", "-o", output],
            environment: new Dictionary<string, string> { ["HOME"] = env.Home },
            timeout: TimeSpan.FromMinutes(4));

        var failures = new List<string>();
        var passed = 0;
        var scenarios = Directory.Exists(output) ? Directory.GetDirectories(output) : [];
        foreach (var scenario in scenarios)
        {
            var file = Path.Combine(scenario, "checks.json");
            if (!File.Exists(file))
            {
                failures.Add($"{Path.GetFileName(scenario)}: wrote no checks.json");
                continue;
            }

            foreach (var check in JsonDocument.Parse(await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken)).RootElement.EnumerateArray())
            {
                var status = check.GetProperty("status").GetString();
                if (status == "SUCCESS")
                {
                    passed++;
                }
                else if (status == "FAILURE")
                {
                    failures.Add($"{Path.GetFileName(scenario)} / {check.GetProperty("id").GetString()}: {(check.TryGetProperty("errorMessage", out var m) ? m.ToString() : "(no message)")}");
                }
            }
        }

        Assert.True(scenarios.Length >= 30, $"only {scenarios.Length} scenarios ran (exit {run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
        Assert.True(failures.Count == 0, $"{failures.Count} conformance checks failed ({passed} passed):\n{string.Join('\n', failures)}");
        Assert.True(run.ExitCode == 0, $"the suite exited with {run.ExitCode}:\n{run.Stdout[^Math.Min(3000, run.Stdout.Length)..]}");
        Assert.True(passed >= 40, $"only {passed} checks passed");
    }
}
