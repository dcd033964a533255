using Mmcp.Core.Manifests;

namespace Mmcp.Core.Tests.Manifests;

public sealed class ServerIdsTests
{
    [Theory]
    [InlineData("com.example.app", true)]
    [InlineData("io.mmcp.files-2", true)]
    [InlineData("a.b_c", true)]
    [InlineData("app", false)]
    [InlineData("com.a__b", false)]
    [InlineData("com.Example", false)]
    [InlineData("-com.example", false)]
    [InlineData("com.example-", false)]
    public void IsValidManifestId_FollowsReverseDns(string id, bool expected) => Assert.Equal(expected, ServerIds.IsValidManifestId(id));

    [Theory]
    [InlineData("My Files", "my-files")]
    [InlineData("filesystem", "filesystem")]
    [InlineData("a__b", "a_b")]
    [InlineData("  GitHub/Server!!  ", "github-server")]
    [InlineData("!!!", "server")]
    [InlineData("x.y.z", "x.y.z")]
    public void FromConfigKey_ProducesAValidServerId(string key, string expected)
    {
        var id = ServerIds.FromConfigKey(key);

        Assert.Equal(expected, id);
        Assert.True(ServerIds.IsValidServerId(id));
    }

    [Theory]
    [InlineData("Files", "com.example.files")]
    [InlineData("Bad Id", "com.example.bad-id")]
    [InlineData("files", "com.example.files")]
    [InlineData("Com.Example.App", "com.example.app")]
    [InlineData("com.exa mple", "com.exa-mple")]
    [InlineData("com..example", "com.example")]
    [InlineData("com.example.", "com.example")]
    [InlineData("com.-example", "com.example")]
    [InlineData("!!!", "com.example.myapp")]
    [InlineData("com.!!!", "com.example.com")]
    public void ExplainManifestId_SuggestsAValidId(string id, string suggestion)
    {
        var message = ServerIds.ExplainManifestId(id)!;

        Assert.EndsWith($"such as '{suggestion}'", message, StringComparison.Ordinal);
        Assert.True(ServerIds.IsValidManifestId(suggestion));
    }
}
