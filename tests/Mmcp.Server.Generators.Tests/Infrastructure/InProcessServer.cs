using System.IO.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Server.Generators.Tests.Infrastructure;

/// <summary>A real MCP server and client connected in process through pipes (the SDK's stream transports).</summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly McpServer _server;
    private readonly Task _run;
    private readonly CancellationTokenSource _stop = new();

    private InProcessServer(ServiceProvider services, McpServer server, McpClient client, Task run)
    {
        _services = services;
        _server = server;
        Client = client;
        _run = run;
    }

    public McpClient Client { get; }

    public IServiceProvider Services => _services;

    public static Task<InProcessServer> StartAsync(MmcpServerDefinition definition, Action<IServiceCollection>? configure = null, McpClientOptions? clientOptions = null) =>
        StartAsync(builder => builder.WithTools(definition.CreateTools()).WithResources(definition.CreateResources()).WithPrompts(definition.CreatePrompts()), configure, clientOptions);

    public static async Task<InProcessServer> StartAsync(Action<IMcpServerBuilder> primitives, Action<IServiceCollection>? configure = null, McpClientOptions? clientOptions = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging();
        configure?.Invoke(collection);
        primitives(collection.AddMcpServer(o => o.ServerInfo = new Implementation { Name = "test", Version = "1" }));
        var services = collection.BuildServiceProvider();
        var options = services.GetRequiredService<IOptions<McpServerOptions>>().Value;

        Pipe clientToServer = new(), serverToClient = new();
        var server = McpServer.Create(new StreamServerTransport(clientToServer.Reader.AsStream(), serverToClient.Writer.AsStream()), options, serviceProvider: services);
        var run = server.RunAsync(CancellationToken.None);
        var client = await McpClient.CreateAsync(
            new StreamClientTransport(clientToServer.Writer.AsStream(), serverToClient.Reader.AsStream()),
            clientOptions ?? new McpClientOptions { ClientInfo = new Implementation { Name = "tests", Version = "1" }, InitializationTimeout = TestTimeouts.Default },
            cancellationToken: TestContext.Current.CancellationToken);
        return new InProcessServer(services, server, client, run);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _stop.CancelAsync();
        await _server.DisposeAsync();
        try
        {
            await _run.WaitAsync(TestTimeouts.Default);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
        }

        await _services.DisposeAsync();
        _stop.Dispose();
    }
}
