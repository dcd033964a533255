using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace Mmcp.Server.Tests.Registration;

public sealed class ReflectionOptInTests
{
    [Fact]
    public async Task AddMmcpServerFromAttribute_NonPartialClass_ServesItsToolsWithTheAttributesIdentity()
    {
        using var env = new TestEnvironment();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddMmcpServerFromAttribute<ReflectedTools>(o => o.Environment = env.Environment).WithTools<ReflectedTools>();
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        var options = host.Services.GetRequiredService<IOptions<MmcpServerOptions>>().Value;
        await using var connection = await TestServer.ConnectAsync(TestServer.SocketPath(host), TestContext.Current.CancellationToken);
        var result = await connection.Client.CallToolAsync("ping", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(("com.example.reflected", "Reflected", "1.0.0"), (options.Id, options.Name, options.Version));
        Assert.Equal(["none"], options.Permissions);
        Assert.Equal("pong", Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(Assert.Single(result.Content)).Text);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void AddMmcpServer_Twice_RegistersTheGeneratedPrimitivesOnce()
    {
        using var env = new TestEnvironment();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMmcpServer<TestTools>(o => o.Environment = env.Environment);
        services.AddMmcpServer<TestTools>(o => o.Environment = env.Environment);
        using var provider = services.BuildServiceProvider();

        var mcp = provider.GetRequiredService<IOptions<ModelContextProtocol.Server.McpServerOptions>>().Value;

        Assert.Equal(["echo", "hold", "wait"], mcp.ToolCollection!.Select(t => t.ProtocolTool.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AddMmcpServer_SecondServerClass_IsRefusedNamingBoth()
    {
        // One app process listens on one socket as one server: a second class's tools would be served under the first
        // id, and its manifest (written at build) would point at a socket nobody listens on.
        var services = new ServiceCollection();
        services.AddMmcpServer<TestTools>();

        var ex = Assert.Throws<InvalidOperationException>(() => services.AddMmcpServer<SecondTools>());

        Assert.Contains("'com.example.test'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'com.example.second'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("one [McpServer] class", ex.Message, StringComparison.Ordinal);
    }
}

[McpServer("com.example.second", "Second", "A second server class in the same app.", "1.0.0")]
public sealed partial class SecondTools
{
    [McpServerTool(Name = "second"), System.ComponentModel.Description("Answers.")]
    public static string Second() => "second";
}

