using Microsoft.Extensions.Logging;
using Mmcp.Core.Registry;
using ModelContextProtocol.Client;

namespace Mmcp.Client.Connectors;

/// <summary>
/// Opens the transport to one kind of server. The hub ships connectors for local sockets, stdio processes and
/// remote HTTP; a platform adds its own here (an Android Binder service, an iOS app group) and the rest of the hub —
/// handshake, budgets, restarts, aggregation — works unchanged.
/// </summary>
/// <remarks>Connectors are asked in registration order; the first whose <see cref="CanConnect"/> is true is used.</remarks>
public interface IServerConnector
{
    /// <summary>Returns whether this connector handles the server's transport.</summary>
    /// <param name="server">The server.</param>
    /// <returns><see langword="true"/> when <see cref="ConnectAsync"/> can reach it.</returns>
    bool CanConnect(DiscoveredServer server);

    /// <summary>Opens the transport. The hub then runs the MCP handshake over it.</summary>
    /// <param name="context">The server and the hub's budgets and services.</param>
    /// <param name="cancellationToken">Cancels opening (the launch budget is already part of it).</param>
    /// <returns>The connection.</returns>
    /// <exception cref="HubException">The server cannot be reached; <see cref="HubException.Code"/> says why.</exception>
    ValueTask<ServerConnection> ConnectAsync(ConnectorContext context, CancellationToken cancellationToken = default);
}

/// <summary>What a connector needs to open one server's transport.</summary>
public sealed class ConnectorContext
{
    /// <summary>Initializes a new instance of the <see cref="ConnectorContext"/> class.</summary>
    /// <param name="server">The server.</param>
    /// <param name="budgets">The budgets for this server.</param>
    /// <param name="environment">The environment (variables, runtime directory).</param>
    /// <param name="options">The hub options.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="timeProvider">The clock.</param>
    public ConnectorContext(DiscoveredServer server, ServerBudgets budgets, MmcpEnvironment environment, MmcpHubOptions options, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(budgets);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Server = server;
        Budgets = budgets;
        Environment = environment;
        Options = options;
        LoggerFactory = loggerFactory;
        TimeProvider = timeProvider;
    }

    /// <summary>Gets the server.</summary>
    public DiscoveredServer Server { get; }

    /// <summary>Gets the budgets for this server.</summary>
    public ServerBudgets Budgets { get; }

    /// <summary>Gets the environment (variables for <c>${env:…}</c> and <c>${input:…}</c>, the runtime directory).</summary>
    public MmcpEnvironment Environment { get; }

    /// <summary>Gets the hub options.</summary>
    public MmcpHubOptions Options { get; }

    /// <summary>Gets the logger factory.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Gets the clock.</summary>
    public TimeProvider TimeProvider { get; }
}

/// <summary>An opened transport to one server, with what must be released after the MCP client over it is disposed.</summary>
public sealed class ServerConnection : IAsyncDisposable
{
    private readonly IAsyncDisposable? _resources;
    private readonly Func<IReadOnlyList<string>>? _diagnosticsTail;
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="ServerConnection"/> class.</summary>
    /// <param name="transport">The MCP client transport.</param>
    /// <param name="resources">What to dispose after the client (for example the socket stream, which the SDK's stream transport does not own), or <see langword="null"/>.</param>
    /// <param name="diagnosticsTail">Returns the latest diagnostic lines (a process's standard error), or <see langword="null"/>.</param>
    /// <param name="startsDuringHandshake">Whether the server process only starts when the handshake begins (stdio), so the handshake also spends the launch budget.</param>
    public ServerConnection(IClientTransport transport, IAsyncDisposable? resources = null, Func<IReadOnlyList<string>>? diagnosticsTail = null, bool startsDuringHandshake = false)
    {
        ArgumentNullException.ThrowIfNull(transport);
        Transport = transport;
        _resources = resources;
        _diagnosticsTail = diagnosticsTail;
        StartsDuringHandshake = startsDuringHandshake;
    }

    /// <summary>Gets the MCP client transport.</summary>
    public IClientTransport Transport { get; }

    /// <summary>Gets a value indicating whether the server process starts when the handshake begins.</summary>
    public bool StartsDuringHandshake { get; }

    /// <summary>Gets or sets the id of the server process this connection runs (stdio), or <see langword="null"/>.</summary>
    public int? ProcessId { get; set; }

    /// <summary>Gets or sets a task that completes with the exit code when the server process (stdio) exits, or <see langword="null"/>.</summary>
    public Task<int>? Exited { get; set; }

    /// <summary>Gets or sets the id of a process this connection started on demand and left running, or <see langword="null"/>.</summary>
    public int? LaunchedProcessId { get; set; }

    /// <summary>Returns the latest diagnostic lines (standard error of a process), oldest first.</summary>
    /// <returns>The lines; empty when there are none.</returns>
    public IReadOnlyList<string> GetDiagnosticsTail() => _diagnosticsTail?.Invoke() ?? [];

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_resources is not null)
        {
            await _resources.DisposeAsync().ConfigureAwait(false);
        }
    }
}
