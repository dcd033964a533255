using Atlas.Desktop.Media;
using Atlas.Media;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Tests.Media;

/// <summary>Which files <c>atlas media-mcp</c> lets MCP clients read when nobody said.</summary>
public sealed class MediaMcpServerHostTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("amh-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    /// <summary>Regression: the default allowed root was the whole home directory; now it is Atlas's own shared media folder.</summary>
    [Fact]
    [Trait("Issue11", "6")]
    public void Build_NoRootsGiven_SharesOnlyTheAtlasMediaFolder()
    {
        using var host = MediaMcpServerHost.Build(_data, [], []);
        var roots = host.Services.GetRequiredService<IOptions<AtlasMediaOptions>>().Value.AllowedRoots;
        var shared = Path.Combine(_data, "media", "shared");
        Assert.Equal([shared], roots);
        Assert.True(Directory.Exists(shared), "the shared folder is created");
        Assert.DoesNotContain(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), roots);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(shared));
        }
    }

    /// <summary>Roots given with --allow are kept as they are.</summary>
    [Fact]
    [Trait("Issue11", "6")]
    public void Build_ExplicitRoots_AreKept()
    {
        var pictures = Path.Combine(_data, "pictures");
        using var host = MediaMcpServerHost.Build(_data, [pictures], []);
        Assert.Equal([pictures], host.Services.GetRequiredService<IOptions<AtlasMediaOptions>>().Value.AllowedRoots);
    }
}
