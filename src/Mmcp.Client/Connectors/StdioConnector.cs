using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Client.Connectors;

/// <summary>Runs a server as a child process speaking MCP over its standard input and output; its standard error is kept in a bounded ring for diagnostics.</summary>
internal sealed class StdioConnector : IServerConnector
{
    public bool CanConnect(DiscoveredServer server) => server.Manifest.Transport is StdioTransport;

    public ValueTask<ServerConnection> ConnectAsync(ConnectorContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var server = context.Server;
        var transport = (StdioTransport)server.Manifest.Transport;
        var env = context.Environment;
        var command = VariableResolver.Resolve(transport.Command, env, server, "transport.command");
        var args = transport.Args.Select((a, i) => VariableResolver.Resolve(a, env, server, $"transport.args[{i}]")).ToList();
        var variables = VariableResolver.ResolveAll(transport.Env, env, server, "transport.env", StringComparer.Ordinal);
        string? cwd = null;
        if (transport.Cwd is { } rawCwd)
        {
            cwd = Path.GetFullPath(VariableResolver.Resolve(rawCwd, env, server, "transport.cwd"), env.CurrentDirectory ?? Environment.CurrentDirectory);
            if (!Directory.Exists(cwd))
            {
                throw new HubException(HubErrorCode.ConfigurationError, server.Id, $"Server '{server.Id}' cannot start: its working directory '{cwd}' does not exist. Create it or fix 'cwd' in {server.Provenance}.");
            }
        }

        var path = variables.GetValueOrDefault("PATH") ?? env.Get("PATH");
        var executable = CommandLocator.Find(command, path, cwd) ?? throw new HubException(
            HubErrorCode.LaunchFailed,
            server.Id,
            command.Contains('/', StringComparison.Ordinal)
                ? $"Server '{server.Id}' cannot start: '{command}' does not exist or is not executable. Fix 'command' in {server.Provenance}."
                : $"Server '{server.Id}' cannot start: the command '{command}' was not found on PATH. Install it, or put its full path in 'command' in {server.Provenance}.");

        var stderr = new LineRing(context.Options.StandardErrorTailLines);
        ChildProcess child;
        try
        {
            child = ChildProcess.Start(executable, args, variables, cwd, stderr);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new HubException(HubErrorCode.LaunchFailed, server.Id, $"Server '{server.Id}' cannot start: {ex.Message} ('{executable}'). Fix 'command' in {server.Provenance}.", ex);
        }

        return ValueTask.FromResult(new ServerConnection(new PipeClientTransport(MessageWrites.ToPipe(child.Input), child.Output, server.Id, context.LoggerFactory), child, stderr.Snapshot, startsDuringHandshake: true)
        {
            ProcessId = child.Id,
            Exited = child.Exited,
        });
    }
}
