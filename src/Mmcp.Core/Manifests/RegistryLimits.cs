namespace Mmcp.Core.Manifests;

/// <summary>Platform limits the registry checks for.</summary>
internal static class RegistryLimits
{
    /// <summary>The longest Unix domain socket path, in bytes, excluding the terminating NUL (108 on Linux, 104 on macOS).</summary>
    public static int MaxUnixSocketPathBytes => OperatingSystem.IsLinux() ? 107 : 103;
}
