using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Mmcp.Client.Diagnostics;

/// <summary>A point in the life of one tool call through a gateway, in the order a call passes them.</summary>
public enum LatencyMark
{
    /// <summary>The gateway's request guard starts (the HTTP request is parsed and routed).</summary>
    GuardStart,

    /// <summary>The JSON-RPC front starts reading the body (host, origin, token, scope and session binding checked).</summary>
    FrontStart,

    /// <summary>The body is read.</summary>
    BodyRead,

    /// <summary>The body is parsed and checked (-32700, -32602, batches).</summary>
    Parsed,

    /// <summary>The session is found and the call is handed to its call path.</summary>
    Dispatched,

    /// <summary>The aggregated name is resolved to a server's tool (the gateway's catalog).</summary>
    Resolved,

    /// <summary>The consent store has allowed the call (the gateway's consent check).</summary>
    ConsentChecked,

    /// <summary>The hub's <c>CallToolAsync</c> starts (traffic registered, activity started).</summary>
    HubEntered,

    /// <summary>The request goes to the upstream's client (server session, tool check, budgets).</summary>
    UpstreamSend,

    /// <summary>The request is written to the upstream's transport.</summary>
    UpstreamWritten,

    /// <summary>The upstream's answer is back as a result.</summary>
    UpstreamAnswered,

    /// <summary>The hub's <c>CallToolAsync</c> returns.</summary>
    HubReturned,

    /// <summary>The call path returns (audit and telemetry recorded).</summary>
    CallReturned,

    /// <summary>The JSON-RPC response is serialized.</summary>
    Serialized,

    /// <summary>The response is written to the HTTP connection.</summary>
    Written,
}

/// <summary>
/// Bench-only phase timing of tool calls (see docs/mmcp-gateway.md, "Latency"). Off unless the environment variable
/// <c>MMCP_BENCH_PHASES</c> names a file when the process starts; then each call made under <see cref="Begin"/>
/// records a timestamp at every <see cref="LatencyMark"/>, the last <see cref="Capacity"/> complete calls are kept,
/// and a table of the intervals (p50 and mean) is written to that file when the process exits. Off, every mark is a
/// test of a static read-only <see langword="false"/>, which the JIT removes.
/// </summary>
public static class LatencyProbe
{
    /// <summary>How many of the latest complete calls the report covers.</summary>
    public const int Capacity = 3000;

    private static readonly string? ReportPath = Environment.GetEnvironmentVariable("MMCP_BENCH_PHASES") is { Length: > 0 } path ? path : null;
    private static readonly AsyncLocal<long[]?> Current = new();
    private static readonly Lock Gate = new();
    private static readonly long[][] Calls = new long[Capacity][];
    private static int _next;
    private static int _count;

    static LatencyProbe()
    {
        if (ReportPath is not null)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => WriteReport();
        }
    }

    /// <summary>Gets a value indicating whether calls are timed in this process.</summary>
    public static bool Enabled { get; } = ReportPath is not null;

    /// <summary>Starts timing the call that runs in the current asynchronous flow.</summary>
    /// <returns>The call's marks, for <see cref="End"/>.</returns>
    public static long[] Begin()
    {
        var marks = new long[Enum.GetValues<LatencyMark>().Length + 1]; // the last slot: when the stdio reader read the answer
        marks[(int)LatencyMark.GuardStart] = Stopwatch.GetTimestamp();
        Current.Value = marks;
        return marks;
    }

    /// <summary>Records when the hub's stdio reader got the bytes of the answer the call is continuing with (its read's return, on the reading thread).</summary>
    /// <param name="timestamp">The read's return, from <see cref="Stopwatch.GetTimestamp"/>.</param>
    internal static void MarkUpstreamRead(long timestamp)
    {
        if (Current.Value is { } marks)
        {
            marks[^1] = timestamp;
        }
    }

    /// <summary>Records that the call of the current flow reached <paramref name="mark"/> (nothing when no call is timed).</summary>
    /// <param name="mark">The point reached.</param>
    public static void Mark(LatencyMark mark)
    {
        if (Current.Value is { } marks)
        {
            marks[(int)mark] = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Ends timing a call; kept when it reached every mark (a direct tools/call).</summary>
    /// <param name="marks">What <see cref="Begin"/> returned.</param>
    public static void End(long[] marks)
    {
        ArgumentNullException.ThrowIfNull(marks);
        Current.Value = null;
        if (Array.IndexOf(marks, 0L, 0, marks.Length - 1) >= 0)
        {
            return;
        }

        lock (Gate)
        {
            Calls[_next] = marks;
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>Formats the intervals between consecutive marks of the kept calls as a Markdown table.</summary>
    /// <returns>The table.</returns>
    public static string Report()
    {
        long[][] calls;
        lock (Gate)
        {
            calls = [.. Calls.Take(_count)];
        }

        var marks = Enum.GetValues<LatencyMark>();
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"calls={calls.Length} answers matched by the hub's stdio reader={Connectors.PipeClientTransport.AnswersMatched}");
        text.AppendLine("| interval | p50 µs | mean µs |");
        text.AppendLine("| --- | ---: | ---: |");
        for (var i = 1; i < marks.Length; i++)
        {
            Row($"{marks[i - 1]} → {marks[i]}", i - 1, i);
        }

        Row($"{marks[0]} → {marks[^1]} (in the gateway)", 0, marks.Length - 1);
        calls = [.. calls.Where(c => c[^1] != 0)];
        Row($"{LatencyMark.UpstreamWritten} → the stdio reader's read returns", (int)LatencyMark.UpstreamWritten, marks.Length);
        Row($"the stdio reader's read returns → {LatencyMark.UpstreamAnswered}", marks.Length, (int)LatencyMark.UpstreamAnswered);
        return text.ToString();

        void Row(string name, int from, int to)
        {
            if (calls.Length == 0)
            {
                return;
            }

            var micros = calls.Select(c => Stopwatch.GetElapsedTime(c[from], c[to]).TotalMicroseconds).Order().ToArray();
            text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {micros[micros.Length / 2]:0.0} | {micros.Average():0.0} |");
        }
    }

    private static void WriteReport()
    {
        try
        {
            File.WriteAllText(ReportPath!, Report());
        }
        catch (IOException)
        {
            // A bench-only report: nothing to do about a directory that went away.
        }
    }
}
