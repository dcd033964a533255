namespace Mmcp.Server.Generators.Tests.Infrastructure;

/// <summary>Locations in the repository and in this test run.</summary>
internal static class TestPaths
{
    public static readonly TimeSpan DefaultTimeout = Atlas.Testing.TestTimeouts.Default;

    /// <summary>Gets the repository root (the directory holding Atlas.slnx).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Gets the build configuration this test assembly was built with.</summary>
    public static string Configuration { get; } = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";

    public static string TestProjectDirectory => Path.Combine(RepoRoot, "tests", "Mmcp.Server.Generators.Tests");

    /// <summary>Gets the FileManagerServer example's build output (built before the tests through a project reference).</summary>
    public static string FileManagerOutput => Path.Combine(RepoRoot, "examples", "FileManagerServer", "bin", Configuration, "net10.0");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Atlas.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Atlas.slnx was not found above {AppContext.BaseDirectory}.");
    }
}

/// <summary>A fresh temporary directory with short paths (Unix socket paths are limited to about 107 bytes), deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "mg-")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
