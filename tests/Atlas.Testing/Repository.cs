namespace Atlas.Testing;

/// <summary>Where the repository is, seen from a test's (or benchmark's) build output.</summary>
public static class Repository
{
    /// <summary>The repository root: the nearest directory above the build output that holds Atlas.slnx.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path under the repository root.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Atlas.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"The repository root (with Atlas.slnx) is not above {AppContext.BaseDirectory}.");
    }
}
