using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Core.Registry;

namespace Mmcp.Client.Tests.DependencyInjection;

public sealed class AddMmcpHubTests : IDisposable
{
    private readonly TestEnvironment _env = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _env.Dispose();

    [Fact]
    public async Task AddMmcpHub_WithAProgrammaticServer_ResolvesAWorkingHub()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMmcpHub(o =>
            {
                o.Registry = new RegistryOptions { Environment = _env.Environment, ImportClientConfigs = false };
                o.WatchRegistry = false;
                o.PersistToolCache = false;
            })
            .AddServer(Servers.Stdio("io.example.incode"));
        await using var provider = services.BuildServiceProvider();

        var hub = provider.GetRequiredService<MmcpHub>();
        var discovery = await hub.DiscoverServersAsync(Ct);
        var result = await hub.CallToolAsync("io.example.incode", "echo", new Dictionary<string, object?> { ["text"] = "from DI" }, cancellationToken: Ct);

        Assert.Same(hub, provider.GetRequiredService<MmcpHub>());
        Assert.Equal(ServerSourceKind.Programmatic, Assert.Single(discovery.Servers).Server.Provenance.Kind);
        Assert.Equal("echo: from DI", HubToolResults.GetText(result));
    }

    [Fact]
    public async Task AddMmcpHub_InvalidOptions_FailAtStartupNamingEveryProblem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddMmcpHub(o =>
        {
            o.CallTimeout = TimeSpan.Zero;
            o.IdempotentRetries = -1;
            o.ProtocolVersion = "1999-01-01";
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains(error.Failures, f => f.Contains("CallTimeout", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("IdempotentRetries", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("'1999-01-01' is not an MCP version", StringComparison.Ordinal));
    }

    [Fact]
    public void ErrorCodes_AreStable()
    {
        // Golden: the gateway, the CLI and scripts depend on these numbers.
        var expected = new Dictionary<string, int>
        {
            ["UnknownServer"] = 1,
            ["UnknownTool"] = 2,
            ["InvalidArguments"] = 3,
            ["NotFound"] = 4,
            ["ConfigurationError"] = 5,
            ["LaunchFailed"] = 6,
            ["ConnectionFailed"] = 7,
            ["HandshakeFailed"] = 8,
            ["HandshakeTimeout"] = 9,
            ["CallTimeout"] = 10,
            ["ServerCrashed"] = 11,
            ["ServerError"] = 12,
            ["SignInRequired"] = 13,
        };

        Assert.Equal(expected, Enum.GetValues<HubErrorCode>().ToDictionary(c => c.ToString(), c => (int)c));
    }
}
