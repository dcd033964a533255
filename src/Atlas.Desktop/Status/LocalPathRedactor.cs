using System.Text;
using System.Text.RegularExpressions;

namespace Atlas.Desktop.Status;

/// <summary>Takes the desktop's local file-system paths out of text that goes to devices (MCP server names and
/// descriptions, which manifests and imported client configurations write with home directories, commands and data
/// files in them). Links (<c>https://host/a/b</c>) and words such as <c>and/or</c> stay.</summary>
internal static partial class LocalPathRedactor
{
    /// <summary>What a path is replaced with.</summary>
    public const string Replacement = "<local path>";

    /// <summary>Replaces the home directory and every absolute path (<c>/…</c>, <c>~/…</c>, <c>C:\…</c>,
    /// <c>\\server\share</c>) in <paramref name="text"/>.</summary>
    public static string? Redact(string? text, string? home = null)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        home ??= Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length > 1)
        {
            // The home directory itself may appear glued to other text where the pattern below would not see a path.
            text = Regex.Replace(text, Regex.Escape(home.TrimEnd('/', '\\')) + @"(?![\w.-])", "~", RegexOptions.CultureInvariant);
        }

        return PathOrUrl().Replace(text, m =>
        {
            if (m.Groups["url"].Success && !m.Value.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            {
                return m.Value; // a link is not a local path (file: URLs are)
            }

            // A sentence's full stop after a path is not part of it.
            var trailing = m.Value.Length - m.Value.TrimEnd('.').Length;
            return new StringBuilder(Replacement).Append('.', trailing).ToString();
        });
    }

    // A URL (kept unless file:), or a path where no word or path character precedes it (so not and/or, 1/2, TCP/IP):
    // ~/x, /x, C:\x or C:/x, \\server\share; either runs to whitespace, a quote or a bracket.
    [GeneratedRegex("""(?<url>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'"`<>()\[\]{}]*)|(?<![\w.~$%/\\-])(?:~(?=[/\\])|[A-Za-z]:(?=[/\\])|\\(?=\\\w))?[/\\][^\s/\\'"`<>()\[\]{},;|*?]+(?:[/\\][^\s/\\'"`<>()\[\]{},;|*?]*)*""")]
    private static partial Regex PathOrUrl();
}
