namespace Mmcp.Server.Generators.Tests.Infrastructure;

/// <summary>Locations in the repository and in this test run.</summary>
internal static class TestPaths
{
    /// <summary>Gets the build configuration this test assembly was built with.</summary>
    public static string Configuration { get; } = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";

    public static string TestProjectDirectory => Path.Combine(Repository.Root, "tests", "Mmcp.Server.Generators.Tests");

    /// <summary>Gets the FileManagerServer example's build output (built before the tests through a project reference).</summary>
    public static string FileManagerOutput => Path.Combine(Repository.Root, "examples", "FileManagerServer", "bin", Configuration, "net10.0");

}
