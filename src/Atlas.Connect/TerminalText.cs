using System.Text;

namespace Atlas.Connect;

/// <summary>Makes text from the desktop (model output, file names, error messages) safe to print on a terminal.</summary>
/// <remarks>A model can be steered by what it reads (a web page, a file) into emitting escape sequences that would
/// rewrite the screen, set the window title or worse; control characters other than newline and tab are shown as
/// U+FFFD instead.</remarks>
internal static class TerminalText
{
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var clean = true;
        foreach (var c in text)
        {
            if (IsUnsafe(c))
            {
                clean = false;
                break;
            }
        }

        if (clean)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(IsUnsafe(c) ? '\uFFFD' : c);
        }

        return builder.ToString();
    }

    private static bool IsUnsafe(char c) =>
        (char.IsControl(c) && c is not '\n' and not '\t') || c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}
