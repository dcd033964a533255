using System.Security.Cryptography;
using System.Text;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Server.Hosting;

/// <summary>Chooses where an app's socket lives.</summary>
internal static class SocketPaths
{
    /// <summary>Resolves the socket path from the options: an explicit path, or <c>&lt;id&gt;.sock</c> in the runtime directory, hashed when too long.</summary>
    public static string Resolve(MmcpServerOptions options)
    {
        var env = options.Environment;
        if (options.SocketPath is { } configured)
        {
            return RegistryPaths.ResolveSocketPath(configured, env);
        }

        var runtime = RegistryPaths.GetRuntimeDirectory(env, create: false);
        var preferred = Path.Combine(runtime, options.Id + ".sock");
        if (Encoding.UTF8.GetByteCount(preferred) <= RegistryLimits.MaxUnixSocketPathBytes)
        {
            return preferred;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(options.Id)))[..12];
        return RegistryPaths.ResolveSocketPath($"m-{hash}.sock", env);
    }
}
