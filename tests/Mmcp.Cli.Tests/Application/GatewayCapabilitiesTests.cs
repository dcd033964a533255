using System.Text.Json;

namespace Mmcp.Cli.Tests.Application;

/// <summary>
/// Regression: one-shot commands connected declaring no client capabilities while the gateway declares sampling,
/// elicitation and roots, so a server that offers tools by the client's capabilities listed fewer under 'mmcp tools'
/// (and 'servers --check') than through the gateway; only 'mmcp consent' declared the gateway's.
/// </summary>
[Trait("Speed", "slow")]
public sealed class GatewayCapabilitiesTests : IAsyncLifetime
{
    private const string ServerId = "io.example.capable";
    private readonly CliSandbox _sandbox = new();

    public async ValueTask InitializeAsync() =>
        await _sandbox.WriteManifestAsync(ServerId, $$"""{"type":"stdio","command":"dotnet","args":[{{JsonSerializer.Serialize(CliSandbox.TestServerDll)}},"stdio","--client-capability-tools"]}""");

    public ValueTask DisposeAsync()
    {
        _sandbox.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>'mmcp tools' and 'servers --check' list the tools a server offers only to clients that declare sampling, elicitation or roots.</summary>
    [Fact]
    public async Task Tools_ServerOffersToolsByClientCapability_ListsWhatTheGatewayIsOffered()
    {
        var tools = await _sandbox.RunAsync("tools", "--server", ServerId, "--json", "--registry", _sandbox.Registry, "--no-import");
        var check = await _sandbox.RunAsync("servers", "--check", "--json", "--registry", _sandbox.Registry, "--no-import");

        Assert.True(tools.ExitCode == 0, tools.ToString());
        var names = tools.Json().GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("tool").GetString()).ToList();
        Assert.Contains("ask_model", names);
        Assert.Contains("ask_user", names);
        Assert.Contains("list_roots", names);
        Assert.True(check.ExitCode == 0, check.ToString());
        var server = Assert.Single(check.Json().GetProperty("servers").EnumerateArray());
        Assert.Equal(names.Count, server.GetProperty("toolCount").GetInt32());
    }

    /// <summary>
    /// A sampling request during 'mmcp call' is answered at once with an MCP error that says why (the CLI has no model to
    /// ask), never left unanswered. On 2025 connections the server gets the error and reports the tool's failure (exit 4);
    /// on 2026-07-28 ones the SDK answers it inside the call, so the call fails with that reason (exit 1), not with
    /// "does not support tools/call".
    /// </summary>
    [Theory]
    [InlineData("2025-11-25", 4)]
    [InlineData(null, 1)]
    public async Task Call_ServerSendsSamplingRequest_AnsweredWithAClearError(string? protocol, int exitCode)
    {
        const string Server = "io.example.asks";
        string[] pin = protocol is null ? [] : ["--protocol", protocol];
        await _sandbox.WriteManifestAsync(Server, $$"""{"type":"stdio","command":"dotnet","args":{{JsonSerializer.Serialize<string[]>([CliSandbox.TestServerDll, "stdio", "--client-capability-tools", .. pin])}}}""");

        var call = await _sandbox.RunAsync("call", Server, "ask_model", "--args", """{"prompt":"hello"}""", "--registry", _sandbox.Registry, "--no-import");

        Assert.True(call.ExitCode == exitCode, call.ToString());
        var output = call.Stdout + call.Stderr;
        Assert.Contains("'mmcp call' has no model to answer sampling/createMessage", output, StringComparison.Ordinal);
        Assert.DoesNotContain("does not support", output, StringComparison.Ordinal);
    }
}
