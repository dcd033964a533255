using Mmcp.Core.Registry;

namespace Mmcp.Core.Tests.Registry;

/// <summary>Issue 12 item 6: stored values of VS Code inputs.</summary>
public sealed class InputStoreTests
{
    /// <summary>The store's directory is 0700 and its file 0600, and setting, replacing and removing leave no temporary files behind.</summary>
    [Fact]
    [Trait("Issue12", "6")]
    public void Set_NewStore_PrivateDirectoryAndFileAndValuesRoundTrip()
    {
        using var dir = new TestSandbox();
        var store = InputStore.For(new MmcpEnvironment(_ => null, dir.Root));

        store.Set("gh-token", "s3cret");
        store.Set("other", "x");
        store.Set("gh-token", "n3w");

        Assert.Equal(Path.Combine(dir.Root, ".config", "mmcp", "inputs.json"), store.Path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(store.Path)!));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.Path));
        Assert.Equal("n3w", store.Get("gh-token"));
        Assert.True(store.Remove("other"));
        Assert.False(store.Remove("other"));
        Assert.Equal(["inputs.json"], Directory.GetFiles(Path.GetDirectoryName(store.Path)!).Select(Path.GetFileName));
        Assert.Equal("n3w", Assert.Single(store.Read()).Value);
    }
}
