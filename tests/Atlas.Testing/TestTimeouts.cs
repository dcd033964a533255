using System.Globalization;

namespace Atlas.Testing;

/// <summary>The one timeout policy of every test project. Tests wait on signals, never on a clock; <see cref="Default"/>
/// only bounds how long one wait may take before the test fails, and <see cref="Budget"/> scales a budget the test gives
/// the code under test to how loaded the machine is, so a test that passes on an idle machine also passes on a busy CI
/// machine with 2 cores.</summary>
/// <remarks>
/// The scale is <c>max(1, load average / cores)</c>, read once from <c>/proc/loadavg</c> when the tests start, times
/// <c>ATLAS_TEST_TIMEOUT_SCALE</c> when that variable is set (for a machine known to be slow: <c>ATLAS_TEST_TIMEOUT_SCALE=3
/// eng/test.sh</c>). docs/architecture.md ("Tests") states the rule.
/// </remarks>
public static class TestTimeouts
{
    /// <summary>How long <see cref="Default"/> is on an idle machine.</summary>
    public static readonly TimeSpan Idle = TimeSpan.FromSeconds(120);

    /// <summary>How much slower than an idle machine this run is assumed to be (at least 1).</summary>
    public static double Scale { get; } = ComputeScale();

    /// <summary>The longest a test waits for one signal (a message, a process exit, a page state, a browser launch, a cold
    /// npm server): generous, because reaching it means the test failed. <see cref="Idle"/> times <see cref="Scale"/>
    /// (the load part of the scale capped at 4).</summary>
    public static TimeSpan Default { get; } = TimeSpan.FromSeconds(Idle.TotalSeconds * Math.Min(Scale, 4 * ExtraScale()));

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

        return Math.Round(scale * ExtraScale(), 1);
    }

    private static double ExtraScale() =>
        double.TryParse(Environment.GetEnvironmentVariable("ATLAS_TEST_TIMEOUT_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var extra) && extra > 0
            ? extra
            : 1;
}
