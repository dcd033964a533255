using System.Text;
using Mmcp.Core.Interop;
using Mmcp.Core.Manifests;

namespace Mmcp.Core.Registry;

/// <summary>Where manifests and sockets live.</summary>
/// <remarks>
/// Registry directories: the entries of <c>MMCP_REGISTRY_PATH</c> (colon-separated) when set; otherwise
/// <c>$XDG_DATA_HOME/mmcp/servers</c> then each <c>$XDG_DATA_DIRS/mmcp/servers</c>. Earlier directories take
/// precedence. Sockets live in <c>$XDG_RUNTIME_DIR/mmcp</c> (mode 0700), or, when that is unset or unusable (common on
/// servers and in containers), in a private 0700 directory <c>mmcp-&lt;uid&gt;</c> under the temporary directory.
/// </remarks>
public static class RegistryPaths
{
    /// <summary>The environment variable that replaces the default registry directories.</summary>
    public const string RegistryPathVariable = "MMCP_REGISTRY_PATH";

    /// <summary>The environment variable that overrides the runtime (socket) directory.</summary>
    public const string RuntimeDirVariable = "MMCP_RUNTIME_DIR";

    /// <summary>Returns the registry directories in precedence order.</summary>
    /// <param name="environment">The environment.</param>
    /// <returns>Absolute directory paths (which may not exist).</returns>
    public static IReadOnlyList<string> GetRegistryDirectories(MmcpEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment.Get(RegistryPathVariable) is { } list)
        {
            var dirs = list.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(d => Path.GetFullPath(d, environment.CurrentDirectory ?? Environment.CurrentDirectory))
                .Distinct(StringComparer.Ordinal)
                .ToArray();
            if (dirs.Length > 0)
            {
                return dirs;
            }
        }

        return [Path.Combine(environment.DataHome, "mmcp", "servers"), .. environment.DataDirs.Select(d => Path.Combine(d, "mmcp", "servers"))];
    }

    /// <summary>Returns the directory where installs write manifests: the first registry directory.</summary>
    /// <param name="environment">The environment.</param>
    /// <returns>An absolute directory path (which may not exist yet).</returns>
    public static string GetUserRegistryDirectory(MmcpEnvironment environment) => GetRegistryDirectories(environment)[0];

    /// <summary>Returns the path of a server's manifest file in a registry directory.</summary>
    /// <param name="directory">The registry directory.</param>
    /// <param name="serverId">The server id.</param>
    /// <returns>The file path <c>&lt;directory&gt;/&lt;id&gt;.json</c>.</returns>
    public static string GetManifestPath(string directory, string serverId)
    {
        if (!ServerIds.IsValidServerId(serverId))
        {
            throw new ArgumentException($"'{serverId}' is not a valid server id.", nameof(serverId));
        }

        return Path.Combine(directory, serverId + ".json");
    }

    /// <summary>Returns the private runtime directory for sockets, creating it (mode 0700) when <paramref name="create"/> is set.</summary>
    /// <param name="environment">The environment.</param>
    /// <param name="create">Whether to create the directory.</param>
    /// <returns>An absolute directory path.</returns>
    /// <exception cref="IOException">The fallback directory exists but belongs to another user or is not private.</exception>
    public static string GetRuntimeDirectory(MmcpEnvironment environment, bool create = true)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment.Get(RuntimeDirVariable) is { } explicitDir && Path.IsPathRooted(explicitDir))
        {
            return create ? EnsurePrivateDirectory(explicitDir) : explicitDir;
        }

        if (environment.Get("XDG_RUNTIME_DIR") is { } xdg && Path.IsPathRooted(xdg) && Directory.Exists(xdg))
        {
            var dir = Path.Combine(xdg, "mmcp");
            return create ? EnsurePrivateDirectory(dir) : dir;
        }

        var fallback = Path.Combine(Path.GetTempPath(), $"mmcp-{CurrentUserId()}");
        return create ? EnsurePrivateDirectory(fallback) : fallback;
    }

    /// <summary>
    /// Returns the socket path a server listens on by default: <c>&lt;id&gt;.sock</c> in the runtime directory, or, when that
    /// path would exceed the platform's socket path limit, a short hashed name <c>m-&lt;12 hex&gt;.sock</c>.
    /// </summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="environment">The environment.</param>
    /// <returns>The absolute socket path.</returns>
    /// <remarks>Servers and installers both use this, so an installed manifest names the socket the server will create.</remarks>
    public static string GetDefaultSocketPath(string serverId, MmcpEnvironment environment)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        var runtime = GetRuntimeDirectory(environment, create: false);
        var preferred = Path.Combine(runtime, serverId + ".sock");
        if (Encoding.UTF8.GetByteCount(preferred) <= RegistryLimits.MaxUnixSocketPathBytes)
        {
            return preferred;
        }

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(serverId)))[..12];
        return ResolveSocketPath($"m-{hash}.sock", environment);
    }

    /// <summary>Resolves a manifest's socket path: relative paths are taken inside the runtime directory.</summary>
    /// <param name="path">The path from the manifest.</param>
    /// <param name="environment">The environment.</param>
    /// <returns>The absolute socket path.</returns>
    /// <exception cref="ArgumentException">The resolved path is longer than the platform's socket path limit.</exception>
    public static string ResolveSocketPath(string path, MmcpEnvironment environment)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.IsPathRooted(path) ? path : Path.Combine(GetRuntimeDirectory(environment, create: false), path);
        var bytes = Encoding.UTF8.GetByteCount(full);
        if (bytes > RegistryLimits.MaxUnixSocketPathBytes)
        {
            throw new ArgumentException($"The socket path '{full}' is {bytes} bytes; Unix socket paths are limited to {RegistryLimits.MaxUnixSocketPathBytes}. Use a shorter name or set {RuntimeDirVariable} to a shorter directory.", nameof(path));
        }

        return full;
    }

    /// <summary>Creates <paramref name="directory"/> with mode 0700 when missing, and checks that an existing one is private to this user.</summary>
    /// <param name="directory">The directory.</param>
    /// <returns>The directory path.</returns>
    /// <exception cref="IOException">The directory belongs to another user, is a symbolic link, or is readable by others.</exception>
    public static string EnsurePrivateDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return directory;
        }

        var parent = Path.GetDirectoryName(directory);
        if (!string.IsNullOrEmpty(parent))
        {
            Directory.CreateDirectory(parent);
        }

        try
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (IOException) when (Directory.Exists(directory))
        {
        }

        var info = new DirectoryInfo(directory);
        if (info.LinkTarget is not null)
        {
            throw new IOException($"'{directory}' is a symbolic link; remove it so a private directory can be created there.");
        }

        if (Libc.TryLStat(directory, out var stat) && stat.UserId != CurrentUserId())
        {
            throw new IOException($"'{directory}' belongs to user {stat.UserId}, not to this user ({CurrentUserId()}); remove it or set {RuntimeDirVariable}.");
        }

        const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((info.UnixFileMode & Others) != 0)
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return directory;
    }

    /// <summary>Returns the real user id of this process (0 on Windows).</summary>
    /// <returns>The uid.</returns>
    public static uint CurrentUserId() => Libc.EffectiveUserId();
}
