namespace Atlas.Desktop.Tests;

/// <summary>The fast lane (<c>eng/test.sh --fast</c>, <c>--filter-not-trait "Speed=slow"</c>) stays fast: a test class
/// that starts a child process (<c>atlas serve</c>, <c>atlas connect</c>, a tool), a Node peer or a browser carries
/// <c>[Trait("Speed", "slow")]</c> on the class or on the tests that do it.</summary>
public sealed class FastLaneTests
{
    /// <summary>What a test file writes when its tests start a process (the helpers that start one are in
    /// <c>Connect/ConnectProcess.cs</c>, <c>Chat/ToolTests.cs</c> and <c>Infrastructure/Chromium.cs</c>).</summary>
    private static readonly string[] ProcessStarts =
    [
        "new ConnectProcess(", // atlas connect as a child process
        "ProcessStartInfo", // atlas serve, zbarimg, kill, node
        "StartWithEverythingAsync(", // server-everything, a Node peer
        "NpmServers.", // any pinned npm MCP server (Node)
        ": Chromium", // Playwright driving Chromium
    ];

    /// <summary>Every test file that starts a process marks the tests that do it slow.</summary>
    [Fact]
    [Trait("Issue13", "6")]
    public void TestFiles_ThatStartProcesses_CarryTheSlowTrait()
    {
        var root = Repository.Path("tests", "Atlas.Desktop.Tests");
        var unmarked = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(path => Path.GetFileName(path) != $"{nameof(FastLaneTests)}.cs") // names the markers itself
            .Select(path => (Path: Path.GetRelativePath(root, path), Text: File.ReadAllText(path)))
            .Where(file => file.Text.Contains("[Fact", StringComparison.Ordinal) || file.Text.Contains("[Theory", StringComparison.Ordinal))
            .Where(file => ProcessStarts.Any(start => file.Text.Contains(start, StringComparison.Ordinal)))
            .Where(file => !file.Text.Contains("[Trait(\"Speed\", \"slow\")]", StringComparison.Ordinal))
            .Select(file => file.Path)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Empty(unmarked);
    }
}
