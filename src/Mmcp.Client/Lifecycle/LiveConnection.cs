using Mmcp.Client.Connectors;
using Mmcp.Client.Diagnostics;
using Mmcp.Client.Traffic;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Lifecycle;

/// <summary>One open MCP session with a server: the SDK client, the transport resources under it, and its lifetime.</summary>
internal sealed class LiveConnection : IAsyncDisposable
{
    private static readonly TimeSpan ListenerGrace = TimeSpan.FromSeconds(1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly string _serverId;
    private readonly string _transport;
    private int _disposed;

    public LiveConnection(McpClient client, ServerConnection connection, string serverId, string transport, string connectionId)
    {
        ConnectionId = connectionId;
        Client = client;
        Connection = connection;
        _serverId = serverId;
        _transport = transport;
        HubTelemetry.ConnectionOpened(serverId, transport);
    }

    public McpClient Client { get; }

    /// <summary>Gets the id of this connection in traffic events (<c>shared</c> or <c>dedicated-N</c>).</summary>
    public string ConnectionId { get; }

    public ServerConnection Connection { get; }

    /// <summary>Gets the requests whose answers the transport's reader matches (the hub's own stdio transport), or <see langword="null"/>.</summary>
    public IReaderRequests? Requests { get; init; }

    /// <summary>Gets a token cancelled when the connection ends, for whatever reason.</summary>
    public CancellationToken Closed => _lifetime.Token;

    public bool IsOpen => !_lifetime.IsCancellationRequested && !Client.Completion.IsCompleted;

    /// <summary>Gets or sets a value indicating whether the hub itself is closing this connection (idle, redefinition, disposal), so its end is no failure.</summary>
    public bool ClosingOnPurpose { get; set; }

    /// <summary>Gets or sets why the connection ended, when it ended by failure.</summary>
    public ServerFailure? Failure { get; set; }

    /// <summary>Gets or sets the pending <c>subscriptions/listen</c> request, or <see langword="null"/>.</summary>
    public Task? Listener { get; set; }

    /// <summary>Gets or sets the id of the <c>subscriptions/listen</c> request.</summary>
    public RequestId ListenerId { get; set; }

    /// <summary>Gets or sets the task watching <see cref="McpClient.Completion"/>.</summary>
    public Task? Watcher { get; set; }

    public void MarkClosed()
    {
        try
        {
            _lifetime.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            // Servers hold a subscriptions/listen request open until it is cancelled, and some wait for it before
            // they exit or shut down: say so explicitly (and flushed) before closing the connection.
            if (Listener is { IsCompleted: false } listener && !Client.Completion.IsCompleted)
            {
                using var grace = new CancellationTokenSource(ListenerGrace);
                try
                {
                    await Client.SendNotificationAsync(
                        NotificationMethods.CancelledNotification,
                        new CancelledNotificationParams { RequestId = ListenerId, Reason = "The hub is closing this connection." },
                        cancellationToken: grace.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or McpException)
                {
                }

                await listener.WaitAsync(ListenerGrace).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            MarkClosed();
            await Client.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            await Connection.DisposeAsync().ConfigureAwait(false);
            HubTelemetry.ConnectionClosed(_serverId, _transport);
        }
    }
}
