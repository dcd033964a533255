using System.IO.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Core.Registry;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Tests.DependencyInjection;

public sealed class GatewayRegistrationTests
{
    [Fact]
    public void MapWithoutAdd_ThrowsNamingTheMissingCall()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        using var app = builder.Build();

        var ex = Assert.Throws<InvalidOperationException>(() => app.MapMmcpGateway());

        Assert.Contains("AddMmcpGateway()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidOptions_FailAtStartupSayingHowToFixThem()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddMmcpGateway(o =>
        {
            o.MaxRequestBodyBytes = 10;
            o.AllowedOrigins.Add("http://example.com/path");
        });
        await using var app = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            app.MapMmcpGateway();
            await app.StartAsync(TestContext.Current.CancellationToken);
        });

        Assert.Contains("MaxRequestBodyBytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("scheme://host[:port]", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>The public stdio face: a host with <c>AddMmcpGatewayStdio</c> over two streams serves the hub's tools, with the gateway's JSON-RPC checks in front.</summary>
    [Fact]
    [Trait("Issue13", "2")]
    public async Task AddMmcpGatewayStdio_OverStreams_ServesTheHubsTools()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        var ct = TestContext.Current.CancellationToken;
        var toGateway = new Pipe();
        var fromGateway = new Pipe();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddMmcpHub(o =>
        {
            o.Registry = new RegistryOptions { Environment = env.Environment, ImportClientConfigs = false };
            o.CacheDirectory = Path.Combine(env.Root, "cache", "tools");
        });
        builder.Services.AddMmcpGatewayStdio(toGateway.Reader.AsStream(), fromGateway.Writer.AsStream(), o =>
        {
            o.ConsentStorePath = env.ConsentPath;
            o.TokenStorePath = env.TokenPath;
            o.AuditLogPath = env.AuditPath;
        });
        using var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            await using (var client = await McpClient.CreateAsync(new StreamClientTransport(toGateway.Writer.AsStream(), fromGateway.Reader.AsStream()), cancellationToken: ct))
            {
                var result = await client.CallToolAsync("io_test_alpha__echo", new Dictionary<string, object?> { ["text"] = "over streams" }, cancellationToken: ct);

                Assert.Equal("echo: over streams", ((TextContentBlock)result.Content[0]).Text);
            }
        }
        finally
        {
            await toGateway.Writer.CompleteAsync();
            await host.StopAsync(ct);
        }
    }
}
