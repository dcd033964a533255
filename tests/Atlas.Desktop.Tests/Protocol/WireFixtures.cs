namespace Atlas.Desktop.Tests.Protocol;

/// <summary>The golden wire fixtures in tests/Fixtures/wire: the exact JSON of a frame (or of a request's
/// <c>data</c>) that the desktop sends or accepts. The .NET golden tests and the browser test
/// <see cref="Browser.WireFixtureTests"/> read the same files, so the two clients cannot drift.</summary>
internal static class WireFixtures
{
    /// <summary>Every fixture's file name.</summary>
    public static IReadOnlyList<string> All { get; } =
        [.. Directory.GetFiles(Repository.Path("tests", "Fixtures", "wire"), "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    /// <summary>The JSON of fixture <paramref name="name"/> (its one line, without the final newline).</summary>
    public static string Read(string name) => File.ReadAllText(Repository.Path("tests", "Fixtures", "wire", name)).TrimEnd('\r', '\n');
}
