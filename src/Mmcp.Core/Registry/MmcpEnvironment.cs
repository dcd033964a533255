namespace Mmcp.Core.Registry;

/// <summary>The parts of the process environment the registry depends on, replaceable in tests.</summary>
public sealed class MmcpEnvironment
{
    private readonly Func<string, string?> _getVariable;

    /// <summary>Initializes a new instance of the <see cref="MmcpEnvironment"/> class.</summary>
    /// <param name="getVariable">Reads an environment variable.</param>
    /// <param name="homeDirectory">The user's home directory.</param>
    /// <param name="currentDirectory">The working directory (used for project-level client configs), or <see langword="null"/>.</param>
    public MmcpEnvironment(Func<string, string?> getVariable, string homeDirectory, string? currentDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        ArgumentException.ThrowIfNullOrEmpty(homeDirectory);
        _getVariable = getVariable;
        HomeDirectory = homeDirectory;
        CurrentDirectory = currentDirectory;
    }

    /// <summary>Gets the environment of the current process.</summary>
    public static MmcpEnvironment Process { get; } = new(
        Environment.GetEnvironmentVariable,
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? home : Path.GetTempPath(),
        Environment.CurrentDirectory);

    /// <summary>Gets the user's home directory.</summary>
    public string HomeDirectory { get; }

    /// <summary>Gets the working directory, or <see langword="null"/>.</summary>
    public string? CurrentDirectory { get; }

    /// <summary>Reads an environment variable; empty values count as unset.</summary>
    /// <param name="name">The variable name.</param>
    /// <returns>The value, or <see langword="null"/>.</returns>
    public string? Get(string name) => _getVariable(name) is { Length: > 0 } value ? value : null;

    /// <summary>Gets <c>$XDG_DATA_HOME</c>, defaulting to <c>~/.local/share</c>.</summary>
    public string DataHome => Get("XDG_DATA_HOME") is { } d && Path.IsPathRooted(d) ? d : Path.Combine(HomeDirectory, ".local", "share");

    /// <summary>Gets <c>$XDG_CONFIG_HOME</c>, defaulting to <c>~/.config</c>.</summary>
    public string ConfigHome => Get("XDG_CONFIG_HOME") is { } d && Path.IsPathRooted(d) ? d : Path.Combine(HomeDirectory, ".config");

    /// <summary>Gets the entries of <c>$XDG_DATA_DIRS</c>, defaulting to <c>/usr/local/share</c> and <c>/usr/share</c>.</summary>
    public IReadOnlyList<string> DataDirs => Get("XDG_DATA_DIRS") is { } dirs
        ? [.. dirs.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(Path.IsPathRooted)]
        : ["/usr/local/share", "/usr/share"];
}
