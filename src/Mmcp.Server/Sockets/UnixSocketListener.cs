using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Core.Interop;
using Mmcp.Core.Registry;
using Mmcp.Gateway.Fronts;
using ModelContextProtocol.Server;
using Shared.Json;

namespace Mmcp.Server.Sockets;

/// <summary>
/// Serves MCP on a Unix domain socket: one MCP session per connection (newline-delimited JSON-RPC, the SDK's stream
/// transport), many concurrent connections, peers limited to the same OS user by default (<c>SO_PEERCRED</c>), and a
/// clean shutdown that removes the socket. A client that half-closes its connection gets every answer first
/// (<see cref="ConnectionInput"/>, <see cref="InputEndedAsync"/>); one that closes it altogether has its work cancelled.
/// </summary>
internal sealed partial class UnixSocketListener : IHostedService, IAsyncDisposable
{
    internal const string MeterName = "Mmcp.Server";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Accepted = Meter.CreateCounter<long>("mmcp.server.connections.accepted", description: "Connections accepted.");
    private static readonly Counter<long> Refused = Meter.CreateCounter<long>("mmcp.server.connections.refused", description: "Connections refused (peer not allowed or connection limit).");
    private static readonly UpDownCounter<long> Active = Meter.CreateUpDownCounter<long>("mmcp.server.sessions.active", description: "Live MCP sessions.");

    /// <summary>How often a connection whose input ended, with answers still to send, is checked for the client having
    /// closed it altogether (then its work is cancelled rather than finished for nobody).</summary>
    private static readonly TimeSpan HangUpCheckInterval = TimeSpan.FromMilliseconds(100);

    private readonly IOptions<McpServerOptions> _mcpOptions;
    private readonly MmcpServerOptions _options;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly InFlightRequests _inFlight;
    private readonly ConcurrentDictionary<int, Task> _sessions = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _sessionsAborted = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private ulong _boundInode;
    private int _nextSessionId;
    private int _stopped;

    public UnixSocketListener(IOptions<McpServerOptions> mcpOptions, IOptions<MmcpServerOptions> options, InFlightRequests inFlight, IServiceProvider services, ILoggerFactory loggerFactory)
    {
        _inFlight = inFlight;
        _mcpOptions = mcpOptions;
        _options = options.Value;
        _services = services;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<UnixSocketListener>();
    }

    /// <summary>Gets the socket path once started.</summary>
    public string? SocketPath { get; private set; }

    /// <summary>Gets the number of live sessions.</summary>
    public int ActiveSessions => _sessions.Count;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var path = SocketPaths.Resolve(_options);
        var directory = Path.GetDirectoryName(path)!;
        if (string.Equals(directory, RegistryPaths.GetRuntimeDirectory(_options.Environment, create: false), StringComparison.Ordinal))
        {
            RegistryPaths.EnsurePrivateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory);
        }

        RemoveStaleSocket(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        _boundInode = Libc.TryLStat(path, out var bound) ? bound.Inode : 0;
        SocketPath = path;
        Log.Listening(_logger, _options.Id, path);
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        // Let requests in progress finish within the grace period, then end every session (idle ones at once).
        var sessions = Task.WhenAll(_sessions.Values);
        using (var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            grace.CancelAfter(_options.ShutdownGracePeriod);
            try
            {
                await Task.WhenAny(sessions, _inFlight.WhenIdleAsync(grace.Token)).Unwrap().ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await _sessionsAborted.CancelAsync().ConfigureAwait(false);
        try
        {
            await sessions.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException)
        {
        }

        DeleteOwnSocket();
        Log.Stopped(_logger, _options.Id);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
        _sessionsAborted.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var ownUid = _options.OwnerUserId ?? RegistryPaths.CurrentUserId();
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || _stopping.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException ex)
            {
                // EMFILE and friends: log, back off briefly, keep serving.
                Log.AcceptFailed(_logger, ex);
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            if (!IsAllowed(socket, ownUid, out var reason))
            {
                Refused.Add(1);
                Log.PeerRefused(_logger, _options.Id, reason);
                socket.Dispose();
                continue;
            }

            if (_sessions.Count >= _options.MaxConnections)
            {
                Refused.Add(1);
                Log.ConnectionLimit(_logger, _options.Id, _options.MaxConnections);
                socket.Dispose();
                continue;
            }

            Accepted.Add(1);
            var id = Interlocked.Increment(ref _nextSessionId);
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var session = Task.Run(async () =>
            {
                await started.Task.ConfigureAwait(false);
                await ServeAsync(id, socket).ConfigureAwait(false);
            });
            _sessions[id] = session;
            _ = session.ContinueWith(_ => _sessions.TryRemove(id, out Task? _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            started.SetResult();
        }
    }

    private bool IsAllowed(Socket socket, uint ownUid, out string reason)
    {
        if (!PeerCredentials.TryGet(socket, out var peer))
        {
            reason = "peer credentials are unavailable on this platform";
            return false;
        }

        if (peer.UserId == ownUid || _options.AllowedPeerUserIds.Contains(peer.UserId))
        {
            reason = string.Empty;
            return true;
        }

        reason = $"process {peer.ProcessId} runs as user {peer.UserId}, not {ownUid}";
        return false;
    }

    private async Task ServeAsync(int id, Socket socket)
    {
        Active.Add(1);
        var stopwatch = Stopwatch.StartNew();
        using var session = CancellationTokenSource.CreateLinkedTokenSource(_sessionsAborted.Token);
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            var unanswered = new UnansweredRequests();
            // A client's lone surrogate escapes (a JavaScript string cut inside an emoji) are read as U+FFFD, not refused.
            var input = new ConnectionInput(new LoneSurrogateStream(stream), unanswered, cancellationToken => InputEndedAsync(id, socket, unanswered, session, cancellationToken));
            var transport = new StreamServerTransport(input, new ConnectionOutput(stream, unanswered), _options.Id, _loggerFactory);
            await using var server = McpServer.Create(transport, _mcpOptions.Value, _loggerFactory, _services);
            await server.RunAsync(session.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException && session.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // One broken session must never take the listener down.
            Log.SessionFailed(_logger, id, ex);
        }
        finally
        {
            Active.Add(-1);
            Log.SessionEnded(_logger, id, stopwatch.Elapsed.TotalMilliseconds);
        }
    }

    /// <summary>
    /// The client's input ended. After a half-close (<c>shutdown(SHUT_WR)</c>) the client still reads, so the requests
    /// in flight are answered first, as a stdio server answers every request it read; once they are (or the client
    /// closed the connection altogether, or the listener stops and its grace period ran out), the session is cancelled,
    /// which ends what still runs (an open <c>subscriptions/listen</c>, the work of a client that left) and the session:
    /// the SDK's session only waits for its handlers at the end of its input, it does not cancel them.
    /// </summary>
    private async Task InputEndedAsync(int id, Socket socket, UnansweredRequests unanswered, CancellationTokenSource session, CancellationToken cancellationToken)
    {
        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(session.Token, cancellationToken);
            var drained = unanswered.DrainAsync(wait.Token);
            if (!drained.IsCompleted)
            {
                Log.InputEnded(_logger, id, unanswered.Count);
            }

            // A full close is told apart from a half-close only by POLLHUP, which no await reports: look now and then.
            while (!drained.IsCompleted)
            {
                if (Libc.IsHungUp(socket.SafeHandle))
                {
                    Log.ClientLeft(_logger, id, unanswered.Count);
                    break;
                }

                await Task.WhenAny(drained, Task.Delay(HangUpCheckInterval, wait.Token)).ConfigureAwait(false);
            }
        }
        finally
        {
            await session.CancelAsync().ConfigureAwait(false);
        }
    }

    private void RemoveStaleSocket(string path)
    {
        if (!Libc.TryLStat(path, out var stat))
        {
            return; // nothing there (or not Linux, where bind reports a clear error itself)
        }

        if (!stat.IsSocket)
        {
            throw new IOException($"'{path}' exists and is not a socket; refusing to replace it. Remove it or choose another MmcpServerOptions.SocketPath.");
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"Another instance of '{_options.Id}' is already serving at '{path}'. Stop it first, or give this instance another MmcpServerOptions.SocketPath.");
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
            {
                // Nobody listens: the socket file is left over from a crash.
            }
        }

        Log.RemovingStaleSocket(_logger, path);
        File.Delete(path);
    }

    private void DeleteOwnSocket()
    {
        if (SocketPath is not { } path)
        {
            return;
        }

        try
        {
            // Only delete our own socket, not one a newer instance created after someone removed ours.
            if (Libc.TryLStat(path, out var stat) && stat.IsSocket && stat.Inode == _boundInode)
            {
                File.Delete(path);
            }
        }
        catch (IOException ex)
        {
            Log.DeleteFailed(_logger, path, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2001, LogLevel.Information, "MCP server {ServerId} listening on {SocketPath}")]
        public static partial void Listening(ILogger logger, string serverId, string socketPath);

        [LoggerMessage(2002, LogLevel.Information, "MCP server {ServerId} stopped")]
        public static partial void Stopped(ILogger logger, string serverId);

        [LoggerMessage(2003, LogLevel.Warning, "Refused a connection to {ServerId}: {Reason}")]
        public static partial void PeerRefused(ILogger logger, string serverId, string reason);

        [LoggerMessage(2004, LogLevel.Warning, "Refused a connection to {ServerId}: {Limit} connections are open")]
        public static partial void ConnectionLimit(ILogger logger, string serverId, int limit);

        [LoggerMessage(2005, LogLevel.Warning, "Session {SessionId} failed")]
        public static partial void SessionFailed(ILogger logger, int sessionId, Exception exception);

        [LoggerMessage(2006, LogLevel.Debug, "Session {SessionId} ended after {ElapsedMs} ms")]
        public static partial void SessionEnded(ILogger logger, int sessionId, double elapsedMs);

        [LoggerMessage(2007, LogLevel.Warning, "Removing the stale socket {SocketPath} left by a previous run")]
        public static partial void RemovingStaleSocket(ILogger logger, string socketPath);

        [LoggerMessage(2008, LogLevel.Warning, "Accepting a connection failed")]
        public static partial void AcceptFailed(ILogger logger, Exception exception);

        [LoggerMessage(2009, LogLevel.Warning, "Could not delete the socket {SocketPath}")]
        public static partial void DeleteFailed(ILogger logger, string socketPath, Exception exception);

        [LoggerMessage(2010, LogLevel.Debug, "Session {SessionId}: the client ended its input; answering {Count} requests in flight before closing")]
        public static partial void InputEnded(ILogger logger, int sessionId, int count);

        [LoggerMessage(2011, LogLevel.Debug, "Session {SessionId}: the client closed the connection; cancelling {Count} requests in flight")]
        public static partial void ClientLeft(ILogger logger, int sessionId, int count);
    }
}
