using System.Collections.Concurrent;
using System.ComponentModel;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Mmcp.Core.Registry;
using Mmcp.Server.Sockets;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Server.Tests;

[McpServer("com.example.test", "Test Server", "Tools for the Mmcp.Server tests.", "2.0.0", Categories = ["testing"])]
public sealed partial class TestTools
{
    [McpServerTool(Name = "echo", ReadOnly = true), Description("Echoes the text back.")]
    public static string Echo([Description("Text to echo")] string text) => $"echo: {text}";

    [McpServerTool(Name = "wait"), Description("Waits until cancelled or the delay passes.")]
    public static async Task<string> Wait([Description("How long to wait.")] int milliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken);
        return "waited";
    }

    [McpServerTool(Name = "hold"), Description("Holds until the test opens the gate of that name, or the call is cancelled.")]
    public static async Task<string> Hold([Description("The gate's name.")] string gate, CancellationToken cancellationToken)
    {
        var held = Gate.Named(gate);
        held.Entered.TrySetResult();
        try
        {
            await held.Opened.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            held.Cancelled.TrySetResult();
            throw;
        }

        return $"held {gate}";
    }

    [McpServerResource(UriTemplate = "test://static", Name = "static", MimeType = "text/plain"), Description("A fixed resource.")]
    public static string Static() => "static content";

    [McpServerResource(UriTemplate = "test://items/{id}", Name = "item"), Description("An item by id.")]
    public static string Item([Description("The item id.")] string id) => $"item {id}";

    [McpServerPrompt(Name = "greet"), Description("Greets someone.")]
    public static string Greet([Description("Who to greet.")] string name) => $"Say hello to {name}";
}

/// <summary>A signal the test controls that the <c>hold</c> tool waits on (a slow call without a clock), and what the
/// tool tells the test: that it started, and that its call was cancelled.</summary>
internal sealed class Gate
{
    private static readonly ConcurrentDictionary<string, Gate> Gates = new(StringComparer.Ordinal);

    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Opened { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A new gate with a name no other test uses.</summary>
    public static (string Name, Gate Gate) New()
    {
        var name = Guid.NewGuid().ToString("N");
        return (name, Named(name));
    }

    public static Gate Named(string name) => Gates.GetOrAdd(name, _ => new Gate());
}

/// <summary>The test kit's sandbox (<see cref="TestSandbox"/>) with the registry directory as the registry (neither it nor
/// the runtime directory exists until the server makes it), and an <see cref="MmcpEnvironment"/> pointing at it.</summary>
internal sealed class TestEnvironment : TestSandbox
{
    public TestEnvironment()
        : base("ms-")
    {
        Set("MMCP_REGISTRY_PATH", RegistryDirectory);
        Environment = new MmcpEnvironment(Get, Home, Root);
    }

    public MmcpEnvironment Environment { get; }
}

internal static class TestServer
{
    public static IHost Build(TestEnvironment env, Action<MmcpServerOptions>? configure = null, ILoggerProvider? logs = null, Action<IMcpServerBuilder>? mcp = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
        }

        var server = builder.Services.AddMmcpServer<TestTools>(o =>
        {
            o.Environment = env.Environment;
            configure?.Invoke(o);
        });
        mcp?.Invoke(server);
        return builder.Build();
    }

    public static string SocketPath(IHost host) => host.Services.GetRequiredService<UnixSocketListener>().SocketPath!;

    public static async Task<Connection> ConnectAsync(string socketPath, CancellationToken cancellationToken, TimeSpan? initializationTimeout = null)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
        var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            var client = await McpClient.CreateAsync(
                new StreamClientTransport(stream, stream),
                new McpClientOptions { ClientInfo = new Implementation { Name = "test", Version = "1" }, InitializationTimeout = initializationTimeout ?? TestTimeouts.Default, DiscoverProbeTimeout = initializationTimeout ?? TestTimeouts.Default },
                cancellationToken: cancellationToken);
            return new Connection(client, stream);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>An MCP client and the stream it runs on (the SDK's stream transport does not own the stream).</summary>
    public sealed record Connection(McpClient Client, Stream Stream) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Stream.DisposeAsync();
        }
    }
}

/// <summary>A server class the generator does not extend (not partial), hosted with the explicit reflection opt-in.</summary>
[McpServer("com.example.reflected", "Reflected", "Registered by reflection.", "1.0.0", Permissions = ["none"])]
[McpServerToolType]
#pragma warning disable MMCP1002 // deliberately not partial: this exercises the reflection opt-in
public sealed class ReflectedTools
#pragma warning restore MMCP1002
{
    [McpServerTool(Name = "ping"), Description("Answers pong.")]
    public static string Ping() => "pong";
}
