using Mmcp.Core.Manifests;

namespace Mmcp.Client.Tests.Interop;

/// <summary>Remote servers over Streamable HTTP and the legacy HTTP+SSE transport (the reference server in each mode).</summary>
public sealed class HttpServerTests : IDisposable
{
    private readonly TestEnvironment _env = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _env.Dispose();

    [Theory]
    [InlineData("streamableHttp", "/mcp", false)]
    [InlineData("sse", "/sse", true)]
    [Trait("Speed", "slow")]
    public async Task Everything_OverHttp_ListsAndCalls(string mode, string path, bool legacySse)
    {
        var port = Servers.FreeTcpPort();
        await using var server = ChildProcess.Start("node", [Servers.NpmServer("server-everything"), mode], new Dictionary<string, string> { ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await server.WaitForLineAsync(l => l.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        await _env.WriteManifestAsync(Servers.Manifest("io.github.remote", new HttpTransport { Url = new Uri($"http://127.0.0.1:{port}{path}"), LegacySse = legacySse }));
        await using var hub = _env.CreateHub();

        var tools = await hub.ListToolsAsync(cancellationToken: Ct);
        var sum = await hub.CallToolAsync("io.github.remote", "get-sum", new Dictionary<string, object?> { ["a"] = 20, ["b"] = 22 }, cancellationToken: Ct);

        Assert.Contains(tools.Tools, t => t.ToolName == "echo" && t.Source == ListSource.Live);
        Assert.Equal("The sum of 20 and 22 is 42.", HubToolResults.GetText(sum));
    }

    [Fact]
    public async Task Http_NothingListening_IsAClearConnectionError()
    {
        var port = Servers.FreeTcpPort();
        await _env.WriteManifestAsync(Servers.Manifest("io.github.remote", new HttpTransport { Url = new Uri($"http://127.0.0.1:{port}/mcp") }));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("io.github.remote", "echo", cancellationToken: Ct).AsTask());

        Assert.True(error.Code is HubErrorCode.ConnectionFailed or HubErrorCode.HandshakeFailed, error.ToString());
        Assert.Contains("io.github.remote", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_HeaderWithUnsetInput_FailsNamingTheVariable()
    {
        await _env.WriteManifestAsync(Servers.Manifest("io.github.remote", new HttpTransport
        {
            Url = new Uri("http://127.0.0.1:9/mcp"),
            Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer ${input:token}" },
        }));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("io.github.remote", "echo", cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.ConfigurationError, error.Code);
        Assert.Contains("MMCP_INPUT_TOKEN", error.Message, StringComparison.Ordinal);
    }
}
