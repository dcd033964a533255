using Mmcp.Client.Lifecycle;
using ModelContextProtocol.Client;

namespace Mmcp.Client;

/// <summary>
/// A connection of its own to one server, opened by <see cref="MmcpHub.OpenDedicatedConnectionAsync"/> next to the
/// hub's shared one: its MCP session (subscriptions, logging level, server-to-client requests) belongs to one caller,
/// such as one downstream session of a gateway. It is not restarted or closed for idleness; dispose it when done.
/// </summary>
public sealed class HubServerConnection : IAsyncDisposable
{
    private readonly LiveConnection _live;

    internal HubServerConnection(string serverId, LiveConnection live, string connectionId, ServerBudgets budgets)
    {
        ServerId = serverId;
        _live = live;
        ConnectionId = connectionId;
        Budgets = budgets;
    }

    /// <summary>Gets the server id.</summary>
    public string ServerId { get; }

    /// <summary>Gets the id this connection's messages carry in <see cref="Traffic.HubTrafficEvent.ConnectionId"/>.</summary>
    public string ConnectionId { get; }

    /// <summary>Gets the budgets that apply to the server (use <see cref="ServerBudgets.Call"/> for each request).</summary>
    public ServerBudgets Budgets { get; }

    /// <summary>Gets the SDK client of this connection.</summary>
    public McpClient Client => _live.Client;

    /// <summary>Gets a token cancelled when the connection ends (the server exited or closed it, or it was disposed).</summary>
    public CancellationToken Closed => _live.Closed;

    /// <summary>Gets the id of the server process this connection runs (stdio), or <see langword="null"/>.</summary>
    public int? ProcessId => _live.Connection.ProcessId;

    /// <summary>Gets the latest lines the server wrote to standard error (stdio), oldest first.</summary>
    /// <returns>The lines; empty when there are none.</returns>
    public IReadOnlyList<string> GetDiagnosticsTail() => _live.Connection.GetDiagnosticsTail();

    /// <summary>
    /// Whether a request on this connection failed because the server no longer knows its session (HTTP 404, or an
    /// error naming the session, as servers built on the TypeScript SDK answer): a new connection cures it. Never for a
    /// stdio server, whose session is its process.
    /// </summary>
    /// <param name="exception">What the request threw.</param>
    /// <returns><see langword="true"/> when the session was lost.</returns>
    public bool IsSessionLost(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return ProcessId is null && FailureClassifier.IsSessionLost(exception, _live.Client.Completion);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _live.DisposeAsync();
}

/// <summary>How <see cref="MmcpHub.OpenDedicatedConnectionAsync"/> sets up the connection.</summary>
public sealed class DedicatedConnectionOptions
{
    /// <summary>Gets or sets a callback that adjusts the SDK client options before the handshake: the protocol version, client info, capabilities, and handlers for the server's requests and notifications (add to the existing <see cref="McpClientOptions.Handlers"/>).</summary>
    public Action<McpClientOptions>? ConfigureClient { get; set; }

    /// <summary>
    /// Gets or sets a callback that sees every message received from the server, in the order it arrived and before
    /// the SDK dispatches it (the SDK handles messages concurrently, so its handlers may run out of order). It runs on
    /// the transport's reader: keep it short and never block.
    /// </summary>
    public Action<ModelContextProtocol.Protocol.JsonRpcMessage>? OnMessageReceived { get; set; }
}
