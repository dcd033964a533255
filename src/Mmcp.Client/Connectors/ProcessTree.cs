using System.Globalization;
using System.Runtime.InteropServices;

namespace Mmcp.Client.Connectors;

/// <summary>
/// The processes below a child process, read from <c>/proc</c> (Linux): so that stopping a server also stops what it
/// started. Each is named by its id and its start time, so that an id the system has given to a new process since is
/// never signalled.
/// </summary>
internal static partial class ProcessTree
{
    /// <summary>SIGTERM: asks a process to end.</summary>
    public const int SigTerm = 15;

    private const int SigKill = 9;

    /// <summary>Lists the descendants of <paramref name="pid"/> (children first, then theirs); empty where <c>/proc</c> cannot be read.</summary>
    /// <param name="pid">The process.</param>
    /// <returns>The descendants.</returns>
    public static IReadOnlyList<(int Pid, long StartTime)> Descendants(int pid)
    {
        var children = new Dictionary<int, List<(int Pid, long StartTime)>>();
        try
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                    && Stat(id) is { } stat)
                {
                    if (!children.TryGetValue(stat.Parent, out var list))
                    {
                        children[stat.Parent] = list = [];
                    }

                    list.Add((id, stat.StartTime));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        var found = new List<(int Pid, long StartTime)>();
        var next = new Queue<int>([pid]);
        while (next.TryDequeue(out var parent))
        {
            foreach (var child in children.GetValueOrDefault(parent) ?? [])
            {
                found.Add(child);
                next.Enqueue(child.Pid);
            }
        }

        return found;
    }

    /// <summary>Waits up to <paramref name="grace"/> for the listed processes to end, then kills those still there.</summary>
    /// <param name="tree">Processes listed by <see cref="Descendants"/>.</param>
    /// <param name="grace">How long they may take to end after being asked.</param>
    /// <returns>A task that completes when none of them is left running.</returns>
    public static async Task KillSurvivorsAsync(IReadOnlyList<(int Pid, long StartTime)> tree, TimeSpan grace)
    {
        if (tree.Count == 0)
        {
            return;
        }

        var started = TimeProvider.System.GetTimestamp();
        while (tree.Any(Alive) && TimeProvider.System.GetElapsedTime(started) < grace)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20)).ConfigureAwait(false);
        }

        foreach (var process in tree.Where(Alive))
        {
            _ = Signal(process.Pid, SigKill);
        }
    }

    /// <summary>Whether the process is still the one listed and has not ended (a zombie has ended).</summary>
    private static bool Alive((int Pid, long StartTime) process) =>
        Stat(process.Pid) is { } stat && stat.StartTime == process.StartTime && stat.State != 'Z';

    /// <summary>The parent, start time and state of a process from <c>/proc/&lt;pid&gt;/stat</c>, or null when it is gone.</summary>
    private static (int Parent, long StartTime, char State)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid … starttime(22nd) …": the name may hold spaces and parentheses, so fields count from the last ')'.
        var end = text.LastIndexOf(')');
        if (end < 0)
        {
            return null;
        }

        var fields = text[(end + 2)..].Split(' ');
        return fields.Length > 19
            && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent)
            && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var startTime)
            ? (parent, startTime, fields[0].Length > 0 ? fields[0][0] : '?')
            : null;
    }

    /// <summary>Sends a signal (<c>kill(2)</c>); 0 when it was sent.</summary>
    /// <param name="pid">The process.</param>
    /// <param name="signal">The signal.</param>
    /// <returns>0, or -1 (the process is gone, or not ours).</returns>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Signal(int pid, int signal);
}
