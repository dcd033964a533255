using System.Net.Sockets;
using Mmcp.Core.Manifests;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Client.Tests.Lifecycle;

/// <summary>Idempotent requests are retried on a fresh connection after the server dropped the connection; tool calls never are.</summary>
public sealed class RetryTests : IAsyncLifetime
{
    private readonly TestEnvironment _env = new();
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;
    private Task? _accepting;
    private int _connections;
    private int _reads;
    private int _calls;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var path = _env.SocketPath("flaky");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(16);
        _accepting = AcceptAsync();
        await _env.WriteManifestAsync(Servers.Manifest("test.flaky", new SocketTransport { Path = path }));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener?.Dispose();
        if (_accepting is not null)
        {
            await _accepting;
        }

        _env.Dispose();
    }

    [Fact]
    public async Task ReadResource_ConnectionDroppedOnce_IsRetriedOnAFreshConnection()
    {
        await using var hub = _env.CreateHub();

        var result = await hub.ReadResourceAsync("test.flaky", "flaky://data", Ct);

        Assert.Equal("data on attempt 2", Assert.IsType<TextResourceContents>(Assert.Single(result.Contents)).Text);
        Assert.Equal(2, Volatile.Read(ref _connections));
    }

    [Fact]
    public async Task CallTool_ConnectionDropped_IsNeverRetried()
    {
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.flaky", "drop", cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.ServerCrashed, error.Code);
        Assert.Equal(1, Volatile.Read(ref _calls));
    }

    private async Task AcceptAsync()
    {
        var sessions = new List<Task>();
        try
        {
            while (true)
            {
                var socket = await _listener!.AcceptAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                sessions.Add(ServeAsync(new NetworkStream(socket, ownsSocket: true)));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        await Task.WhenAll(sessions);
    }

    private async Task ServeAsync(NetworkStream stream)
    {
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "flaky", Version = "1" },
            Capabilities = new ServerCapabilities { Resources = new ResourcesCapability(), Tools = new ToolsCapability() },
            Handlers = new McpServerHandlers
            {
                ListToolsHandler = (_, _) => ValueTask.FromResult(new ListToolsResult { Tools = [new Tool { Name = "drop", InputSchema = System.Text.Json.JsonDocument.Parse("""{"type":"object"}""").RootElement }] }),
                CallToolHandler = async (_, ct) =>
                {
                    Interlocked.Increment(ref _calls);
                    await stream.DisposeAsync();
                    await Task.Delay(Timeout.Infinite, ct);
                    return new CallToolResult();
                },
                ReadResourceHandler = async (request, ct) =>
                {
                    if (Interlocked.Increment(ref _reads) == 1)
                    {
                        await stream.DisposeAsync();
                        await Task.Delay(Timeout.Infinite, ct);
                    }

                    return new ReadResourceResult { Contents = [new TextResourceContents { Uri = request.Params!.Uri, Text = $"data on attempt {_reads}" }] };
                },
            },
        };
        try
        {
            await using var server = McpServer.Create(new StreamServerTransport(stream, stream), options);
            await server.RunAsync(_stop.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }
}
