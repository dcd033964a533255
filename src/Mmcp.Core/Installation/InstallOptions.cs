using Mmcp.Core.Registry;

namespace Mmcp.Core.Installation;

/// <summary>How <see cref="ManifestInstaller"/> installs and uninstalls servers.</summary>
public sealed class InstallOptions
{
    /// <summary>Gets or sets the environment (registry and runtime directories). The default is the current process's.</summary>
    public MmcpEnvironment Environment { get; set; } = MmcpEnvironment.Process;

    /// <summary>
    /// Gets or sets the registry directory manifests are written to and removed from. The default is
    /// <see langword="null"/>: the user registry directory (<c>MMCP_REGISTRY_PATH</c>'s first entry or
    /// <c>$XDG_DATA_HOME/mmcp/servers</c>).
    /// </summary>
    public string? RegistryDirectory { get; set; }

    /// <summary>Gets or sets a value indicating whether an install may shadow or replace another source's server with the same id. The default is <see langword="false"/>.</summary>
    public bool Force { get; set; }

    /// <summary>Gets the arguments appended to the manifest's launch command (for example the folder a file server shares). The default is empty.</summary>
    public IList<string> LaunchArguments { get; } = [];

    /// <summary>
    /// Gets or sets the sources checked for servers with the same id. The default is <see langword="null"/>: the
    /// default sources of <see cref="Environment"/> (registry directories and imported client configurations).
    /// </summary>
    public RegistryOptions? Sources { get; set; }

    internal string TargetDirectory => RegistryDirectory ?? RegistryPaths.GetUserRegistryDirectory(Environment);

    internal RegistryOptions EffectiveSources => Sources ?? new RegistryOptions { Environment = Environment };
}
