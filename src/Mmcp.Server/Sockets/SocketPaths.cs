using Mmcp.Core.Registry;

namespace Mmcp.Server.Sockets;

/// <summary>Chooses where an app's socket lives.</summary>
internal static class SocketPaths
{
    /// <summary>Resolves the socket path from the options: an explicit path, or the default for the id (<see cref="RegistryPaths.GetDefaultSocketPath"/>).</summary>
    public static string Resolve(MmcpServerOptions options) =>
        options.SocketPath is { } configured
            ? RegistryPaths.ResolveSocketPath(configured, options.Environment)
            : RegistryPaths.GetDefaultSocketPath(options.Id, options.Environment);
}
