using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Files;

namespace Atlas.Desktop.Tests.Files;

public sealed class DevicePathTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("/", "")]
    [InlineData("a", "a")]
    [InlineData("photos/2026/x.jpg", "photos/2026/x.jpg")]
    [InlineData("dir/", "dir")]
    [InlineData("..a/b..c", "..a/b..c")]
    [InlineData("ünïcødé/名前.txt", "ünïcødé/名前.txt")]
    public void Normalize_AcceptedPaths_AreCanonical(string input, string expected) =>
        Assert.Equal(expected, DevicePath.Normalize(input));

    [Theory]
    [InlineData("../secret")]
    [InlineData("a/../../b")]
    [InlineData("a/./b")]
    [InlineData("..")]
    [InlineData("/etc/passwd")]
    [InlineData("//server/share")]
    [InlineData("\\\\server\\share\\x")]
    [InlineData("\\\\?\\C:\\x")]
    [InlineData("\\\\.\\pipe\\x")]
    [InlineData("..\\..\\x")]
    [InlineData("C:\\Windows")]
    [InlineData("C:foo")]
    [InlineData("a.txt:secret")]
    [InlineData("a\0b")]
    [InlineData("a\nb")]
    [InlineData("a//b")]
    [InlineData("CON")]
    [InlineData("dir/nul.txt")]
    [InlineData("LPT1.log")]
    [InlineData("foo.")]
    [InlineData("foo ")]
    [InlineData(" foo")]
    [InlineData(".atlas-tmp-x")]
    [InlineData("%2e%2e/../x")]
    public void Normalize_DangerousPaths_AreRefusedWithInvalidPath(string input)
    {
        var error = Assert.Throws<AtlasException>(() => DevicePath.Normalize(input));
        Assert.Equal(ErrorCodes.InvalidPath, error.Code);
        Assert.Contains("not allowed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_OverlongNameOrPathOrDepth_IsRefused()
    {
        Assert.Throws<AtlasException>(() => DevicePath.Normalize(new string('a', 256)));
        Assert.Throws<AtlasException>(() => DevicePath.Normalize(new string('é', 128))); // 256 UTF-8 bytes
        Assert.Throws<AtlasException>(() => DevicePath.Normalize(string.Join('/', Enumerable.Repeat("abcdefghij", 110))));
        Assert.Throws<AtlasException>(() => DevicePath.Normalize(string.Join('/', Enumerable.Repeat("d", 33))));
        Assert.Equal(new string('a', 255), DevicePath.Normalize(new string('a', 255)));
    }

    [Fact]
    public void Resolve_SiblingWithSamePrefix_IsOutside()
    {
        // Regression: a prefix check without a trailing separator lets device-1 reach device-10.
        var parent = Directory.CreateTempSubdirectory("atl-prefix-").FullName;
        var root = Path.Combine(parent, "device-1");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(Path.Combine(parent, "device-10"));
        var error = Assert.Throws<AtlasException>(() => DevicePath.Resolve(root, "../device-10/x"));
        Assert.Equal(ErrorCodes.InvalidPath, error.Code);
        Assert.Equal(Path.Combine(root, "x"), DevicePath.Resolve(root, "x"));
        Directory.Delete(parent, recursive: true);
    }

    [Fact]
    public void Resolve_SymlinkInsideRootPointingOut_IsRefused()
    {
        var parent = Directory.CreateTempSubdirectory("atl-link-").FullName;
        var root = Path.Combine(parent, "dev_a");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(parent, "outside.txt"), "secret");
        File.CreateSymbolicLink(Path.Combine(root, "file-link"), Path.Combine(parent, "outside.txt"));
        Directory.CreateSymbolicLink(Path.Combine(root, "dir-link"), parent);
        File.CreateSymbolicLink(Path.Combine(root, "dangling"), Path.Combine(parent, "nothing"));

        foreach (var path in new[] { "file-link", "dir-link/outside.txt", "dangling" })
        {
            Assert.Equal(ErrorCodes.InvalidPath, Assert.Throws<AtlasException>(() => DevicePath.Resolve(root, path)).Code);
        }

        Directory.Delete(parent, recursive: true);
    }

    /// <summary>Regression: "evil\u202Egnp.exe" displays as "evilexe.png". Bidirectional controls are refused; the
    /// zero-width joiner (emoji sequences) is not.</summary>
    [Theory]
    [InlineData("evil\u202Egnp.exe")]
    [InlineData("a\u202Ab")]
    [InlineData("a\u202Bb")]
    [InlineData("a\u202Cb")]
    [InlineData("a\u202Db")]
    [InlineData("dir\u2066/x")]
    [InlineData("a\u2067b")]
    [InlineData("a\u2068b")]
    [InlineData("a\u2069b")]
    [InlineData("a\u200Eb")]
    [InlineData("a\u200Fb")]
    public void Normalize_BidirectionalControls_AreRefusedWithInvalidPath(string input)
    {
        var error = Assert.Throws<AtlasException>(() => DevicePath.Normalize(input));
        Assert.Equal(ErrorCodes.InvalidPath, error.Code);
        Assert.DoesNotContain(input, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_ZeroWidthJoinerInEmoji_IsAccepted() =>
        Assert.Equal("\U0001F469\u200D\U0001F4BB.txt", DevicePath.Normalize("\U0001F469\u200D\U0001F4BB.txt"));

    /// <summary>A lone surrogate (a name cut inside an emoji) is no Unicode text.</summary>
    [Fact]
    public void Normalize_LoneSurrogate_IsRefusedWithInvalidPath() =>
        Assert.Equal(ErrorCodes.InvalidPath, Assert.Throws<AtlasException>(() => DevicePath.Normalize("lone\uD83D.txt")).Code);
}
