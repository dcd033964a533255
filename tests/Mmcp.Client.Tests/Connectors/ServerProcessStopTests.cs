using System.Globalization;
using Mmcp.Client.Connectors;
using ServerProcess = Mmcp.Client.Connectors.ChildProcess;

namespace Mmcp.Client.Tests.Connectors;

/// <summary>How the hub stops a stdio server's process: with everything the server started.</summary>
public sealed class ServerProcessStopTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Before: a server started through a shell (<c>sh -c "… | exec node …"</c>, a wrapper script) whose own
    /// program ignores the end of its input outlived the hub: the SIGTERM went to the shell alone, the shell died at
    /// once, and its child was left to init (every test run left a server-everything behind).</summary>
    [Fact]
    [Trait("Leftovers", "orphans")]
    public async Task Dispose_AServerStartedThroughAShell_StopsWhatTheShellStarted()
    {
        var child = ServerProcess.Start("sh", ["-c", "sleep 1000 & echo $!; wait"], new Dictionary<string, string>(), null, new LineRing(16));
        using var output = new StreamReader(child.Output);
        var line = await output.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct);
        var grandchild = int.Parse(line!, CultureInfo.InvariantCulture);
        Assert.True(Running(grandchild), $"sleep ({grandchild}) did not start");

        await child.DisposeAsync();

        Assert.True(child.Exited.IsCompleted);
        Assert.False(Running(grandchild), $"sleep ({grandchild}) outlived the server that started it");
    }

    /// <summary>Whether a process exists and has not ended (a zombie waiting for its new parent has ended).</summary>
    private static bool Running(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
