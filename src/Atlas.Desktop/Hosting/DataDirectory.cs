namespace Atlas.Desktop.Hosting;

/// <summary>The data directory layout: database, identity, files, uploads and the control socket.</summary>
internal sealed class DataDirectory
{
    public DataDirectory(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    public string DatabasePath => Path.Combine(Root, "atlas.db");

    public string IdentityDirectory => Path.Combine(Root, "identity");

    public string FilesRoot => Path.Combine(Root, "files");

    public string UploadsRoot => Path.Combine(Root, "uploads");

    public string ControlSocketPath => Path.Combine(Root, "control.sock");

    public string MediaCacheDirectory => Path.Combine(Root, "media", "cache");

    public string MediaWorkDirectory => Path.Combine(Root, "media", "work");

    /// <summary>The default: <c>$XDG_DATA_HOME/atlas</c>, else <c>~/.local/share/atlas</c>.</summary>
    public static string DefaultRoot()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "atlas");
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "atlas");
    }

    public static string Resolve(string? configured) =>
        string.IsNullOrWhiteSpace(configured) ? DefaultRoot() : Path.GetFullPath(configured);

    /// <summary>Creates the directories, private to the user (0700).</summary>
    public void Create()
    {
        foreach (var directory in new[] { Root, IdentityDirectory, FilesRoot, UploadsRoot })
        {
            CreatePrivate(directory);
        }
    }

    public static void CreatePrivate(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
