using System.Diagnostics;
using System.Text;

namespace Mmcp.Client.Connectors;

/// <summary>Starts an app detached from the hub: its own session, no terminal, output into a launch log, never through a shell that interprets its arguments.</summary>
internal static class AppLauncher
{
    // The script only wires up file descriptors; the command and arguments are passed as positional parameters, never interpolated.
    private const string Script = "log=\"$1\"; shift; exec \"$@\" </dev/null >\"$log\" 2>&1";
    private static readonly string[] SetsidPaths = ["/usr/bin/setsid", "/bin/setsid"];

    public static Process Start(string executable, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, string workingDirectory, string logPath, string serverId)
    {
        var start = new ProcessStartInfo { UseShellExecute = false, WorkingDirectory = workingDirectory, CreateNoWindow = true };
        if (OperatingSystem.IsWindows())
        {
            start.FileName = executable;
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }
        }
        else
        {
            // setsid puts the app in its own session, so a Ctrl+C meant for the hub's terminal does not reach it.
            var setsid = SetsidPaths.FirstOrDefault(File.Exists);
            start.FileName = setsid ?? "/bin/sh";
            if (setsid is not null)
            {
                start.ArgumentList.Add("/bin/sh");
            }

            foreach (var arg in (string[])["-c", Script, "sh", logPath, executable, .. args])
            {
                start.ArgumentList.Add(arg);
            }
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        try
        {
            return Process.Start(start) ?? throw new HubException(HubErrorCode.LaunchFailed, serverId, $"Server '{serverId}' could not be launched: the system started no process for '{executable}'.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new HubException(HubErrorCode.LaunchFailed, serverId, $"Server '{serverId}' could not be launched: {ex.Message} ('{executable}').", ex);
        }
    }

    /// <summary>Reads the last lines of a log file (at most 16 KiB from its end).</summary>
    public static IReadOnlyList<string> ReadTail(string path, int lines)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = (int)Math.Min(file.Length, 16 * 1024);
            file.Seek(-length, SeekOrigin.End);
            var buffer = new byte[length];
            file.ReadExactly(buffer);
            var all = Encoding.UTF8.GetString(buffer).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return all.Length <= lines ? all : all[^lines..];
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }
}
