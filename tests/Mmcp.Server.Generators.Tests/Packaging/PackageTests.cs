using System.IO.Compression;
using System.Xml.Linq;
using Mmcp.Server.Generators.Tests.Infrastructure;

namespace Mmcp.Server.Generators.Tests.Packaging;

/// <summary>The Mmcp.Server package carries the generator as an analyzer and the manifest build step.</summary>
[Trait("Speed", "slow")]
public sealed class PackageTests
{
    [Fact]
    public async Task Pack_MmcpServer_ContainsTheGeneratorAndBuildTargets()
    {
        using var output = new TestSandbox("pk-");
        var project = Path.Combine(Repository.Root, "src", "Mmcp.Server", "Mmcp.Server.csproj");

        var (exitCode, log) = await DotnetCli.RunAsync(
            ["pack", project, "-c", TestPaths.Configuration, "--no-build", "--no-restore", "-o", output.Root, "--disable-build-servers", "-nologo"],
            Repository.Root,
            TestContext.Current.CancellationToken);

        Assert.True(exitCode == 0, log);
        var package = Assert.Single(Directory.GetFiles(output.Root, "Mmcp.Server.*.nupkg"));
        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("analyzers/dotnet/cs/Mmcp.Server.Generators.dll", entries);
        Assert.Contains("buildTransitive/Mmcp.Server.targets", entries);
        Assert.Contains("lib/net10.0/Mmcp.Server.dll", entries);
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.EndsWith("Mmcp.Server.Generators.dll", StringComparison.Ordinal));

        await using var nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var nuspec = await XDocument.LoadAsync(nuspecStream, LoadOptions.None, TestContext.Current.CancellationToken);
        var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!).ToList();
        Assert.Contains("ModelContextProtocol", dependencies);
        Assert.DoesNotContain("Mmcp.Server.Generators", dependencies);
    }
}
