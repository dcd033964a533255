using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Mmcp.Gateway.Bench;

internal interface ICaller : IAsyncDisposable
{
    Task CallAsync();
}

internal sealed class HttpCaller(RawMcpHttpClient client, string tool) : ICaller
{
    public Task CallAsync() => client.CallToolAsync(tool, new JsonObject { ["message"] = "ping" }, CancellationToken.None);

    public ValueTask DisposeAsync() => client.DisposeAsync();
}

internal sealed class RestCaller(RawRestClient client) : ICaller
{
    public Task CallAsync() => client.CallToolAsync("io_bench_everything__echo", new JsonObject { ["message"] = "ping" }, CancellationToken.None);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal sealed class StdioCaller(RawStdioClient client) : ICaller
{
    private int _disposed;

    public Task CallAsync() => client.CallToolAsync("echo", new JsonObject { ["message"] = "ping" }, CancellationToken.None);

    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _disposed, 1) == 0 ? client.DisposeAsync() : ValueTask.CompletedTask;
}

/// <summary>A target of the latency phase: how to get a caller, and whether every parallel caller shares the first one.</summary>
internal sealed record Target(string Name, Func<Task<ICaller>> NewCaller, bool SharedCaller)
{
    /// <summary>Gets the arguments of external-client.mjs for this target, or null when the external client cannot reach it.</summary>
    public string[]? External { get; init; }

    /// <summary>Gets the process that answers this target, when it is one of its own (for its CPU per call).</summary>
    public Peer? Process { get; init; }
}

internal readonly record struct Stats(double P50, double P90, double P99, double Max, double Mean)
{
    /// <summary>A p50 alone (the external client reports no other figure).</summary>
    public static Stats Single(double p50) => new(p50, double.NaN, double.NaN, double.NaN, double.NaN);

    public static Stats Of(double[] samples)
    {
        var sorted = samples.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new Stats(At(0.50), At(0.90), At(0.99), sorted[^1], sorted.Average());
    }
}

internal sealed record Result(string Name, Stats Sequential, double SequentialRate, Stats Parallel, double ParallelRate, IReadOnlyList<double> RoundP50s, IReadOnlyList<double> RoundRates)
{
    public const string Header = "target                   | seq p50 ms | seq p90 | seq p99 | seq calls/s | par p50 ms | par p99 | par calls/s";

    public string Format() => string.Create(CultureInfo.InvariantCulture,
        $"{Name,-24} | {Sequential.P50,10:0.000} | {Ms(Sequential.P90),7} | {Ms(Sequential.P99),7} | {SequentialRate,11:0} | {Parallel.P50,10:0.000} | {Ms(Parallel.P99),7} | {ParallelRate,11:0}");

    /// <summary>A latency in ms, or a dash where the client did not report it (the external client gives p50s only).</summary>
    private static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString("0.000", CultureInfo.InvariantCulture);
}

/// <summary>A peer process in its own process group, stopped with the whole group.</summary>
internal sealed class Peer : IDisposable
{
    private readonly Process _process;

    private Peer(Process process) => _process = process;

    public static async Task<Peer> StartAsync(string name, string command, string[] args, Dictionary<string, string>? env, int port)
    {
        var start = new ProcessStartInfo("setsid", [command, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in env ?? [])
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with {process.ExitCode}: {log}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return new Peer(process);
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"{name} did not listen on port {port} within 60 s: {log}");
    }

    /// <summary>Gets the CPU time (user and system) the peer's process has used so far (not its children's).</summary>
    public TimeSpan Cpu
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            // setsid made the peer a process-group leader: signal the whole group (it spawned server-everything).
            using var kill = Process.Start("kill", ["-TERM", "--", "-" + _process.Id.ToString(CultureInfo.InvariantCulture)]);
            kill?.WaitForExit();
            if (!_process.WaitForExit(3000))
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }
}

/// <summary>
/// A private registry and XDG home for `mmcp serve`, so a bench run never reads the user's client configurations
/// (<c>--no-import</c>) nor writes the user's consent store, tool cache, audit log or gateway runtime file.
/// </summary>
internal sealed class GatewayHome : IDisposable
{
    public GatewayHome()
    {
        Root = Directory.CreateTempSubdirectory("mmcp-bench-").FullName;
        Registry = Directory.CreateDirectory(Path.Combine(Root, "servers")).FullName;
        var runtime = Path.Combine(Root, "run");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(runtime);
        }
        else
        {
            Directory.CreateDirectory(runtime, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Environment = new Dictionary<string, string>
        {
            ["MMCP_REGISTRY_PATH"] = Registry,
            ["XDG_CONFIG_HOME"] = Path.Combine(Root, "config"),
            ["XDG_CACHE_HOME"] = Path.Combine(Root, "cache"),
            ["XDG_STATE_HOME"] = Path.Combine(Root, "state"),
            ["XDG_DATA_HOME"] = Path.Combine(Root, "data"),
            ["XDG_RUNTIME_DIR"] = runtime,
        };
    }

    /// <summary>Gets a scratch directory that is deleted with the home (for servers that need files).</summary>
    public string Root { get; }

    /// <summary>Gets the registry directory <c>mmcp serve</c> reads.</summary>
    public string Registry { get; }

    public Dictionary<string, string> Environment { get; }

    /// <summary>Registers a server: writes its manifest into the registry.</summary>
    public void Add(JsonObject manifest) =>
        File.WriteAllText(Path.Combine(Registry, manifest["id"]!.GetValue<string>() + ".json"), manifest.ToJsonString());

    /// <summary>A stdio manifest for a Node server.</summary>
    public static JsonObject StdioManifest(string id, string description, string node, IEnumerable<string> args, JsonObject? env = null)
    {
        var transport = new JsonObject { ["type"] = "stdio", ["command"] = node, ["args"] = new JsonArray([.. args.Select(a => (JsonNode)JsonValue.Create(a))]) };
        if (env is not null)
        {
            transport["env"] = env;
        }

        return new JsonObject { ["id"] = id, ["name"] = id, ["description"] = description, ["version"] = "1", ["transport"] = transport };
    }

    /// <summary>The command line of <c>mmcp serve</c> on <paramref name="port"/> with this home.</summary>
    public static string[] ServeArgs(string mmcp, int port, params string[] extra) =>
        [mmcp, "serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--no-import", .. extra];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class BenchEnvironment
{
    /// <summary>
    /// Runs this process's socket completions on the runtime's socket event thread, as <c>mmcp serve</c> does
    /// (src/Mmcp.Cli/Serving/InlineSocketCompletions.cs): a raw client should not pay a thread-pool hop for each
    /// answer it reads, for any target. The setting is read when the first socket registers, so it is set, a socket
    /// registered, and the variable removed again: the processes the bench starts do not inherit it.
    /// </summary>
    public static void InlineSocketCompletions()
    {
        const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        if (Environment.GetEnvironmentVariable(Variable) is not null)
        {
            return;
        }

        Environment.SetEnvironmentVariable(Variable, "1");
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var accept = listener.AcceptAsync();
            listener.Close();
            _ = accept.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Variable, null);
        }
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Atlas.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Run the benchmark from inside the repository (Atlas.slnx not found above the binary).");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
