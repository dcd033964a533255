using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Core.Tests.Registry;

public sealed class ManifestDirectorySourceTests
{
    [Fact]
    public void Read_MissingDirectory_IsEmptyWithoutErrors()
    {
        var result = new ManifestDirectorySource("/nonexistent/mmcp/servers").Read(TestContext.Current.CancellationToken);

        Assert.Empty(result.Servers);
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void Read_ValidAndInvalidManifests_ReturnsTheValidOnesAndReportsTheRest()
    {
        using var dir = new TestSandbox();
        dir.Write("com.example.a.json", SampleManifests.Minimal("com.example.a"));
        dir.Write("com.example.b.json", SampleManifests.Minimal("com.example.b", """{"type":"stdio"}"""));
        dir.Write("broken.json", "{ not json");
        dir.Write("notes.txt", "ignored");
        dir.Write(".com.example.c.json.123.tmp", "partial");

        var result = new ManifestDirectorySource(dir.Root).Read(TestContext.Current.CancellationToken);

        var server = Assert.Single(result.Servers);
        Assert.Equal("com.example.a", server.Manifest.Id);
        Assert.Equal(ServerSourceKind.ManifestDirectory, server.Provenance.Kind);
        Assert.Equal(dir.Combine("com.example.a.json"), server.Provenance.Location);
        Assert.Contains(result.Diagnostics, d => d.File.EndsWith("com.example.b.json", StringComparison.Ordinal) && d.Field == "transport.command");
        Assert.Contains(result.Diagnostics, d => d.File.EndsWith("broken.json", StringComparison.Ordinal) && d.Message.Contains("not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_FileNameDifferentFromId_WarnsAndDuplicateIdIsIgnored()
    {
        using var dir = new TestSandbox();
        dir.Write("a.json", SampleManifests.Minimal("com.example.same"));
        dir.Write("b.json", SampleManifests.Minimal("com.example.same"));

        var result = new ManifestDirectorySource(dir.Root).Read(TestContext.Current.CancellationToken);

        Assert.Equal(dir.Combine("a.json"), Assert.Single(result.Servers).Provenance.Location);
        Assert.Contains(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Warning && d.Message.Contains("rename the file", StringComparison.Ordinal));
        Assert.Contains(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error && d.File == dir.Combine("b.json") && d.Message.Contains("already defined", StringComparison.Ordinal));
    }

    /// <summary>A manifest rewritten within one tick of the file system's clock, to the same length, keeps the file's
    /// stamp; the next read must still see the change (regression: the parsed first version was kept).</summary>
    [Fact]
    [Trait("Leftovers", "stamp")]
    public void Read_AChangeThatKeepsTheFilesTimeAndLength_IsSeen()
    {
        using var dir = new TestSandbox();
        var tick = TimeProvider.System.GetUtcNow().UtcDateTime.AddMinutes(1); // ahead of the clock: the reads fall within it
        var path = dir.Write("com.example.a.json", SampleManifests.Minimal("com.example.a"));
        File.SetLastWriteTimeUtc(path, tick);
        var source = new ManifestDirectorySource(dir.Root);
        Assert.Equal("An app.", source.Read(TestContext.Current.CancellationToken).Servers[0].Manifest.Description);

        File.WriteAllText(path, SampleManifests.Minimal("com.example.a").Replace("An app.", "An elf.", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(path, tick);

        Assert.Equal("An elf.", source.Read(TestContext.Current.CancellationToken).Servers[0].Manifest.Description);
    }

    [Fact]
    public void Read_Twice_ReusesParsedManifestsUntilTheFileChanges()
    {
        using var dir = new TestSandbox();
        var path = dir.Write("com.example.a.json", SampleManifests.Minimal("com.example.a"));
        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddMinutes(-1)); // settled: a file just written is read again until it is (FileStamp)
        var source = new ManifestDirectorySource(dir.Root);

        var first = source.Read(TestContext.Current.CancellationToken).Servers[0].Manifest;
        var second = source.Read(TestContext.Current.CancellationToken).Servers[0].Manifest;
        File.WriteAllText(path, SampleManifests.Minimal("com.example.a").Replace("An app.", "A changed app.", StringComparison.Ordinal));
        var third = source.Read(TestContext.Current.CancellationToken).Servers[0].Manifest;

        Assert.Same(first, second);
        Assert.NotSame(first, third);
        Assert.Equal("A changed app.", third.Description);
    }

    [Fact]
    public void Read_OversizedFile_IsReportedNotRead()
    {
        using var dir = new TestSandbox();
        dir.Write("com.example.big.json", new string(' ', ManifestReader.MaxManifestBytes + 1));

        var result = new ManifestDirectorySource(dir.Root).Read(TestContext.Current.CancellationToken);

        Assert.Empty(result.Servers);
        Assert.Contains("limited to", Assert.Single(result.Diagnostics).Message, StringComparison.Ordinal);
    }
}
