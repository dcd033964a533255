namespace Mmcp.Client.Connectors;

/// <summary>Finds the program a server definition names, the way <c>execvp</c> would, so a missing one gets a clear error before anything starts.</summary>
internal static class CommandLocator
{
    public static string? Find(string command, string? pathVariable, string? workingDirectory)
    {
        if (command.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(command))
        {
            var full = Path.GetFullPath(command, workingDirectory ?? Environment.CurrentDirectory);
            return IsExecutable(full) ? full : null;
        }

        foreach (var dir in (pathVariable ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (IsExecutable(candidate))
            {
                return candidate;
            }

            if (OperatingSystem.IsWindows())
            {
                foreach (var ext in new[] { ".exe", ".cmd", ".bat" })
                {
                    if (File.Exists(candidate + ext))
                    {
                        return candidate + ext;
                    }
                }
            }
        }

        return null;
    }

    private static bool IsExecutable(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(path) & AnyExecute) != 0;
    }
}
