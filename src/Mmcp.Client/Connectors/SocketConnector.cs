using System.Diagnostics;
using System.Net.Sockets;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol.Protocol;
using Shared.Json;

namespace Mmcp.Client.Connectors;

/// <summary>
/// Reaches a server over its local Unix socket. When nothing listens and the manifest has a <c>launch</c> entry, starts
/// the app detached (it outlives the hub), waits for the socket within the launch budget, then connects.
/// </summary>
internal sealed class SocketConnector : IServerConnector
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMilliseconds(100);
    private static readonly string[] SharedVariables = [RegistryPaths.RuntimeDirVariable, RegistryPaths.RegistryPathVariable, "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_DATA_DIRS", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"];

    public bool CanConnect(DiscoveredServer server) => server.Manifest.Transport is SocketTransport;

    public async ValueTask<ServerConnection> ConnectAsync(ConnectorContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var server = context.Server;
        string path;
        try
        {
            path = RegistryPaths.ResolveSocketPath(((SocketTransport)server.Manifest.Transport).Path, context.Environment);
        }
        catch (Exception ex) when (ex is ArgumentException or IOException)
        {
            throw new HubException(HubErrorCode.ConfigurationError, server.Id, $"Server '{server.Id}' cannot be reached: {ex.Message}", ex);
        }

        var stream = await TryConnectAsync(server, path, cancellationToken).ConfigureAwait(false);
        if (stream is not null)
        {
            return Wrap(stream);
        }

        if (server.Manifest.Launch is null)
        {
            throw new HubException(
                HubErrorCode.ConnectionFailed,
                server.Id,
                $"Server '{server.Id}' is not running: nothing listens on {path}, and its manifest has no 'launch' entry to start it. Start the app, or add 'launch' to {server.Provenance}.");
        }

        return await LaunchAndConnectAsync(context, path, cancellationToken).ConfigureAwait(false);
    }

    private static ServerConnection Wrap(NetworkStream stream, int? launchedProcessId = null) =>
        new(new StreamClientTransport(MessageWrites.Coalesce(stream), new LoneSurrogateStream(stream)), resources: stream) { LaunchedProcessId = launchedProcessId };

    private static async Task<NetworkStream?> TryConnectAsync(DiscoveredServer server, string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
        {
            socket.Dispose();
            throw new HubException(HubErrorCode.ConnectionFailed, server.Id, $"Server '{server.Id}' cannot be reached: permission denied on {path}. The socket belongs to another user; run the hub as that user or ask the app to allow this one.", ex);
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null; // a stale socket file, or a server that is shutting down
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<ServerConnection> LaunchAndConnectAsync(ConnectorContext context, string path, CancellationToken cancellationToken)
    {
        var server = context.Server;
        var launch = server.Manifest.Launch!;
        var env = context.Environment;
        var command = VariableResolver.Resolve(launch.Command, env, server, "launch.command");
        var args = launch.Args.Select((a, i) => VariableResolver.Resolve(a, env, server, $"launch.args[{i}]")).ToList();
        var variables = VariableResolver.ResolveAll(launch.Env, env, server, "launch.env", StringComparer.Ordinal);

        // The app must find the same runtime directory (its socket) and registry as this hub does.
        foreach (var name in SharedVariables)
        {
            if (!variables.ContainsKey(name) && env.Get(name) is { } value)
            {
                variables[name] = value;
            }
        }

        var home = env.HomeDirectory;
        var cwd = launch.Cwd is { } rawCwd ? Path.GetFullPath(VariableResolver.Resolve(rawCwd, env, server, "launch.cwd"), home) : home;
        if (!Directory.Exists(cwd))
        {
            throw new HubException(HubErrorCode.ConfigurationError, server.Id, $"Server '{server.Id}' cannot be launched: its working directory '{cwd}' does not exist. Create it or fix 'launch.cwd' in {server.Provenance}.");
        }

        var executable = CommandLocator.Find(command, variables.GetValueOrDefault("PATH") ?? env.Get("PATH"), cwd) ?? throw new HubException(
            HubErrorCode.LaunchFailed,
            server.Id,
            $"Server '{server.Id}' is not running and cannot be launched: the command '{command}' was not found. Install the app, or fix 'launch.command' in {server.Provenance}.");

        string runtimeDirectory;
        try
        {
            runtimeDirectory = RegistryPaths.GetRuntimeDirectory(env);
        }
        catch (IOException ex)
        {
            throw new HubException(HubErrorCode.ConfigurationError, server.Id, $"Server '{server.Id}' cannot be launched: {ex.Message}", ex);
        }

        var logPath = Path.Combine(runtimeDirectory, server.Id + ".launch.log");
        var clock = context.TimeProvider;
        var started = clock.GetTimestamp();
        Process? process = null;

        // Another hub may be launching the same app right now: only the holder of the lock starts it; the others wait for the socket.
        var launchLock = TryTakeLock(Path.Combine(runtimeDirectory, server.Id + ".launch.lock"));
        try
        {
            if (launchLock is not null)
            {
                var raced = await TryConnectAsync(server, path, cancellationToken).ConfigureAwait(false);
                if (raced is not null)
                {
                    return Wrap(raced);
                }

                process = AppLauncher.Start(executable, args, variables, cwd, logPath, server.Id);
            }

            var delay = FirstPoll;
            while (true)
            {
                var stream = await TryConnectAsync(server, path, cancellationToken).ConfigureAwait(false);
                if (stream is not null)
                {
                    return Wrap(stream, process?.Id);
                }

                if (process is { HasExited: true } && process.ExitCode != 0)
                {
                    throw new HubException(
                        HubErrorCode.LaunchFailed,
                        server.Id,
                        $"Server '{server.Id}' was launched ('{command}') but exited with code {process.ExitCode} before listening on {path}. See {logPath}.",
                        failure: new ServerFailure(HubErrorCode.LaunchFailed, $"exited with code {process.ExitCode} during launch", clock.GetUtcNow()) { ExitCode = process.ExitCode, StandardErrorTail = AppLauncher.ReadTail(logPath, context.Options.StandardErrorTailLines) });
                }

                if (clock.GetElapsedTime(started) >= context.Budgets.Launch)
                {
                    throw new HubException(
                        HubErrorCode.LaunchFailed,
                        server.Id,
                        $"Server '{server.Id}' was launched ('{command}') but did not listen on {path} within its launch budget of {context.Budgets.Launch.TotalSeconds:0.###} s. Check that its manifest's socket path matches the app's, or raise 'timeouts.launch'. See {logPath}.",
                        failure: new ServerFailure(HubErrorCode.LaunchFailed, "socket did not appear within the launch budget", clock.GetUtcNow()) { StandardErrorTail = AppLauncher.ReadTail(logPath, context.Options.StandardErrorTailLines) });
                }

                await Task.Delay(delay, clock, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxPoll.Ticks));
            }
        }
        finally
        {
            process?.Dispose(); // releases the handle only; the app keeps running
            launchLock?.Dispose();
        }
    }

    private static FileStream? TryTakeLock(string path)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
