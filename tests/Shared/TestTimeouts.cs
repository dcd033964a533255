using System.Globalization;

namespace Atlas.Testing;

/// <summary>The one timeout policy of every test project (compiled into each). Tests wait on signals, never on a
/// clock; these numbers only bound how long a wait may take before the test fails, and the budgets a test gives the
/// code under test (a call budget, a launch budget) are scaled to how loaded the machine is, so a test that passes on
/// an idle machine also passes on a busy CI machine with 2 cores.</summary>
/// <remarks>
/// The scale is <c>max(1, load average / cores)</c>, read once from <c>/proc/loadavg</c> when the tests start, times
/// <c>ATLAS_TEST_TIMEOUT_SCALE</c> when that variable is set (for a machine known to be slow).
/// </remarks>
internal static class TestTimeouts
{
    /// <summary>How much slower than an idle machine this run is assumed to be (at least 1).</summary>
    public static double Scale { get; } = ComputeScale();

    /// <summary>The longest a test waits for one signal (a message, a process exit, a page state): generous, because
    /// reaching it means the test failed.</summary>
    public static TimeSpan Default { get; } = TimeSpan.FromSeconds(60 * Math.Min(Scale, 4));

    /// <summary>The same bound for the slow parts: a child process that builds or installs, a browser launch, a cold
    /// npm server.</summary>
    public static TimeSpan Long { get; } = TimeSpan.FromSeconds(180 * Math.Min(Scale, 4));

    /// <summary>A budget the test gives the code under test whose expiry the test wants to see (a hung call, a server
    /// that never listens), scaled so that the normal work under the same budget still fits on a busy machine.</summary>
    public static TimeSpan Budget(TimeSpan idle) => TimeSpan.FromMilliseconds(Math.Round(idle.TotalMilliseconds * Scale));

    private static double ComputeScale()
    {
        var scale = 1.0;
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ', 2)[0];
            if (double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var load))
            {
                scale = Math.Max(1, load / Environment.ProcessorCount);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        if (double.TryParse(Environment.GetEnvironmentVariable("ATLAS_TEST_TIMEOUT_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var extra) && extra > 0)
        {
            scale *= extra;
        }

        return Math.Round(scale, 1);
    }
}
