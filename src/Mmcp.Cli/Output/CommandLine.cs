
namespace Mmcp.Cli.Output;

/// <summary>Formats a program and its arguments the way a POSIX shell user would type them (for display only; nothing is ever run through a shell).</summary>
internal static class CommandLine
{
    public static string Format(string command, IEnumerable<string> args) => string.Join(' ', new[] { command }.Concat(args).Select(Quote));

    public static string Quote(string value)
    {
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:@%+,".Contains(c, StringComparison.Ordinal)))
        {
            return value;
        }

        return "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
