using Mmcp.Core.Registry;

namespace Mmcp.Core.Tests.Registry;

public sealed class RegistryPathsTests
{
    private static MmcpEnvironment Env(Dictionary<string, string> vars, string home = "/home/u", string cwd = "/work") =>
        new(name => vars.GetValueOrDefault(name), home, cwd);

    [Fact]
    public void GetRegistryDirectories_NoVariables_UsesXdgDefaults()
    {
        var dirs = RegistryPaths.GetRegistryDirectories(Env([]));

        Assert.Equal(["/home/u/.local/share/mmcp/servers", "/usr/local/share/mmcp/servers", "/usr/share/mmcp/servers"], dirs);
    }

    [Fact]
    public void GetRegistryDirectories_XdgVariables_AreHonoured()
    {
        var dirs = RegistryPaths.GetRegistryDirectories(Env(new() { ["XDG_DATA_HOME"] = "/data", ["XDG_DATA_DIRS"] = "/a:/b::relative" }));

        Assert.Equal(["/data/mmcp/servers", "/a/mmcp/servers", "/b/mmcp/servers"], dirs);
    }

    [Fact]
    public void GetRegistryDirectories_RegistryPath_ReplacesDefaultsInOrder()
    {
        var dirs = RegistryPaths.GetRegistryDirectories(Env(new() { ["MMCP_REGISTRY_PATH"] = "/first:rel/second::/first" }));

        Assert.Equal(["/first", "/work/rel/second"], dirs);
    }

    [Fact]
    public void GetRuntimeDirectory_XdgRuntimeDir_IsUsedAndMadePrivate()
    {
        using var temp = new TestSandbox();

        var dir = RegistryPaths.GetRuntimeDirectory(Env(new() { ["XDG_RUNTIME_DIR"] = temp.Root }));

        Assert.Equal(Path.Combine(temp.Root, "mmcp"), dir);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
    }

    [Fact]
    public void GetRuntimeDirectory_NoXdgRuntimeDir_FallsBackToPrivateTempDirectory()
    {
        var dir = RegistryPaths.GetRuntimeDirectory(Env([]));

        Assert.Equal(Path.Combine(Path.GetTempPath(), $"mmcp-{RegistryPaths.CurrentUserId()}"), dir);
        Assert.True(Directory.Exists(dir));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
    }

    [Fact]
    public void EnsurePrivateDirectory_GroupReadableDirectory_IsTightened()
    {
        using var temp = new TestSandbox();
        var dir = Directory.CreateDirectory(temp.Combine("open")).FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);

        RegistryPaths.EnsurePrivateDirectory(dir);

        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(dir));
    }

    [Fact]
    public void EnsurePrivateDirectory_SymbolicLink_IsRefused()
    {
        using var temp = new TestSandbox();
        var target = Directory.CreateDirectory(temp.Combine("target")).FullName;
        var link = temp.Combine("link");
        Directory.CreateSymbolicLink(link, target);

        var ex = Assert.Throws<IOException>(() => RegistryPaths.EnsurePrivateDirectory(link));

        Assert.Contains("symbolic link", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnsurePrivateDirectory_OwnedByAnotherUser_IsRefused()
    {
        Assert.SkipUnless(RegistryPaths.CurrentUserId() == 0, "changing a directory's owner needs root");
        using var temp = new TestSandbox();
        var dir = Directory.CreateDirectory(temp.Combine("theirs")).FullName;
        Assert.Equal(0, Chown(dir, 65534, 65534));

        var ex = Assert.Throws<IOException>(() => RegistryPaths.EnsurePrivateDirectory(dir));

        Assert.Contains("belongs to user 65534", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResolveSocketPath_RelativeName_IsInTheRuntimeDirectory()
    {
        using var temp = new TestSandbox();
        var env = Env(new() { ["XDG_RUNTIME_DIR"] = temp.Root });

        Assert.Equal(Path.Combine(temp.Root, "mmcp", "app.sock"), RegistryPaths.ResolveSocketPath("app.sock", env));
        Assert.Equal("/abs/app.sock", RegistryPaths.ResolveSocketPath("/abs/app.sock", env));
    }

    [Fact]
    public void ResolveSocketPath_TooLong_SaysHowToFixIt()
    {
        var env = Env(new() { ["MMCP_RUNTIME_DIR"] = "/" + new string('d', 100) });

        var ex = Assert.Throws<ArgumentException>(() => RegistryPaths.ResolveSocketPath("a-rather-long-socket-name.sock", env));

        Assert.Contains("MMCP_RUNTIME_DIR", ex.Message, StringComparison.Ordinal);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown(string path, int owner, int group);
}
