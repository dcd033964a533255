using Atlas.Desktop.Status;

namespace Atlas.Desktop.Tests.Status;

/// <summary>What <see cref="LocalPathRedactor"/> takes out of server names and descriptions, and what it leaves.</summary>
public sealed class LocalPathRedactorTests
{
    private const string Home = "/home/alice";
    private const string P = LocalPathRedactor.Replacement;

    /// <summary>Before: descriptions reached devices with the desktop's home directory and absolute paths in them.</summary>
    [Theory]
    [Trait("Hardening", "6")]
    [InlineData("'notes' imported from /home/alice/.config/Claude/claude_desktop_config.json", $"'notes' imported from {P}")]
    [InlineData("Runs /usr/local/bin/notes-mcp --db /var/lib/notes.db.", $"Runs {P} --db {P}.")]
    [InlineData("Files in ~/Documents and (/opt/x/y), C:\\Users\\alice\\notes or D:/data", $"Files in {P} and ({P}), {P} or {P}")]
    [InlineData("Share \\\\nas\\public\\notes here", $"Share {P} here")]
    [InlineData("key:/home/alice/secret", $"key:{P}")]
    [InlineData("Open file:///home/alice/x.txt now", $"Open {P} now")]
    [InlineData("/home/alicea is another user", $"{P} is another user")]
    [InlineData("/home/alice", "~")]
    public void Redact_LocalPaths_Replaced(string text, string expected) => Assert.Equal(expected, LocalPathRedactor.Redact(text, Home));

    [Theory]
    [Trait("Hardening", "6")]
    [InlineData("See https://notes.example/help/tools for and/or TCP/IP, 1/2 of it / all.")]
    [InlineData("The MCP reference test server")]
    public void Redact_TextWithoutLocalPaths_Unchanged(string text) => Assert.Equal(text, LocalPathRedactor.Redact(text, Home));
}
