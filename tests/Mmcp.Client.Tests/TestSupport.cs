using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Client.Tests;

/// <summary>The test kit's sandbox (<see cref="TestSandbox"/>) with the registry directory as the registry, and the hub's
/// environment and options pointing at it.</summary>
internal sealed class TestEnvironment : TestSandbox
{
    public TestEnvironment()
        : base("mh-")
    {
        CreateRegistry();
        CreateHome();
        Set("MMCP_REGISTRY_PATH", RegistryDirectory);
        Environment = new MmcpEnvironment(Get, Home, Root);
    }

    public MmcpEnvironment Environment { get; }

    /// <summary>A socket path in the runtime directory.</summary>
    public string SocketPath(string name) => Path.Combine(RegistryPaths.GetRuntimeDirectory(Environment), name + ".sock");

    public MmcpHubOptions Options(Action<MmcpHubOptions>? configure = null)
    {
        var options = new MmcpHubOptions
        {
            Registry = new RegistryOptions { Environment = Environment, ImportClientConfigs = false },
            WatchRegistry = false,
            CacheDirectory = Path.Combine(CacheDirectory, "mmcp", "tools"),
            LaunchTimeout = TestTimeouts.Default,
            HandshakeTimeout = TestTimeouts.Default,
            CallTimeout = TestTimeouts.Default,
        };
        configure?.Invoke(options);
        return options;
    }

    public MmcpHub CreateHub(Action<MmcpHubOptions>? configure = null, TimeProvider? time = null) => MmcpHub.Create(Options(configure), timeProvider: time);

    public async Task WriteManifestAsync(ServerManifest manifest) =>
        await ManifestWriter.WriteFileAsync(manifest, RegistryPaths.GetManifestPath(RegistryDirectory, manifest.Id), TestContext.Current.CancellationToken);
}

/// <summary>Definitions of the servers the tests run as real processes.</summary>
internal static class Servers
{
    public static string TestServerDll => Path.Combine(AppContext.BaseDirectory, "Mmcp.TestServer.dll");

    public static ServerManifest Stdio(string id, params string[] extraArgs) => Manifest(id, new StdioTransport { Command = "dotnet", Args = [TestServerDll, "stdio", .. extraArgs] });

    public static ServerManifest Manifest(string id, ServerTransport transport, LaunchSpec? launch = null, ServerTimeouts? timeouts = null, string? protocolVersion = null, CapabilitySnapshot? capabilities = null) => new()
    {
        Id = id,
        Name = id,
        Description = $"Test server {id}",
        Version = "1.0.0",
        Transport = transport,
        Launch = launch,
        Timeouts = timeouts,
        ProtocolVersion = protocolVersion,
        Capabilities = capabilities,
    };

    /// <summary>The entry script of an npm MCP server pinned in eng/npm.</summary>
    public static string NpmServer(string package) => NpmServers.Script(package);

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static void Kill(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TestTimeouts.Default);
        }
        catch (ArgumentException)
        {
            // already gone
        }
        catch (InvalidOperationException)
        {
        }
    }

    public static bool IsRunning(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

/// <summary>A child process the test owns, with its standard error lines available as they arrive.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _stderr = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _waiters = [];

    private ChildProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public static ChildProcess Start(string command, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(command, args) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        var child = new ChildProcess(process);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => child.OnExit();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return child;
    }

    /// <summary>Waits for a line of output that matches.</summary>
    public Task<string> WaitForLineAsync(Func<string, bool> match)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_stderr)
        {
            if (_stderr.FirstOrDefault(match) is { } line)
            {
                return Task.FromResult(line);
            }

            if (_process.HasExited)
            {
                return Task.FromException<string>(new InvalidOperationException($"The process exited with {_process.ExitCode}; output:\n{string.Join('\n', _stderr)}"));
            }

            _waiters.Add((match, done));
        }

        return done.Task.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_stderr)
        {
            _stderr.Add(line);
            foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
            {
                waiter.Done.TrySetResult(line);
                _waiters.Remove(waiter);
            }
        }
    }

    private void OnExit()
    {
        lock (_stderr)
        {
            foreach (var waiter in _waiters)
            {
                waiter.Done.TrySetException(new InvalidOperationException($"The process exited; output:\n{string.Join('\n', _stderr)}"));
            }

            _waiters.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process.Dispose();
    }
}
