using System.Diagnostics;
using System.Net.Sockets;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Server.Generators.Tests.Infrastructure;

/// <summary>An Mmcp server app started as a separate process, as a hub starts it from a manifest's launch entry.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _stderr = [];

    private ServerProcess(Process process) => _process = process;

    public static ServerProcess Start(string command, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(command, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new ServerProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
            {
                return;
            }

            lock (server._stderr)
            {
                server._stderr.Add(line);
            }

            // The listener logs "MCP server <id> listening on <socket>" (event 2001) once it accepts connections.
            var at = line.IndexOf(" listening on ", StringComparison.Ordinal);
            if (at >= 0)
            {
                server._listening.TrySetResult(line[(at + " listening on ".Length)..].Trim());
            }
        };
        process.Exited += (_, _) => server._listening.TrySetException(new InvalidOperationException($"{command} exited with {process.ExitCode} before listening:{Environment.NewLine}{server.Log}"));
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return server;
    }

    public string Log
    {
        get
        {
            lock (_stderr)
            {
                return string.Join(Environment.NewLine, _stderr);
            }
        }
    }

    /// <summary>Waits until the server listens and returns its socket path.</summary>
    public Task<string> WaitUntilListeningAsync(CancellationToken cancellationToken) => _listening.Task.WaitAsync(TestTimeouts.Default, cancellationToken);

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

/// <summary>An MCP client over a Unix socket, with the stream it owns (the SDK's stream transport does not own it).</summary>
internal sealed class SocketClient : IAsyncDisposable
{
    private readonly Stream _stream;

    private SocketClient(McpClient client, Stream stream)
    {
        Client = client;
        _stream = stream;
    }

    public McpClient Client { get; }

    public static async Task<SocketClient> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
        var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            var client = await McpClient.CreateAsync(
                new StreamClientTransport(stream, stream),
                new McpClientOptions { ClientInfo = new Implementation { Name = "e2e", Version = "1" }, InitializationTimeout = TestTimeouts.Default, DiscoverProbeTimeout = TestTimeouts.Default },
                cancellationToken: cancellationToken);
            return new SocketClient(client, stream);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _stream.DisposeAsync();
    }
}

/// <summary>A throwaway user: registry, runtime directory and home in a temporary directory.</summary>
internal sealed class TestUser : IDisposable
{
    private readonly TestSandbox _root = new("mu-");

    public TestUser()
    {
        Variables = new Dictionary<string, string>
        {
            ["MMCP_RUNTIME_DIR"] = _root.Combine("run"),
            ["MMCP_REGISTRY_PATH"] = _root.Combine("reg"),
            ["HOME"] = Directory.CreateDirectory(_root.Combine("home")).FullName,
        };
        Environment = new Mmcp.Core.Registry.MmcpEnvironment(n => Variables.GetValueOrDefault(n), Variables["HOME"], Variables["HOME"]);
        Shared = Directory.CreateDirectory(_root.Combine("shared")).FullName;
        File.WriteAllText(Path.Combine(Shared, "hello.txt"), "Hello, files!");
        Directory.CreateDirectory(Path.Combine(Shared, "docs"));
    }

    public IReadOnlyDictionary<string, string> Variables { get; }

    public Mmcp.Core.Registry.MmcpEnvironment Environment { get; }

    /// <summary>Gets a folder to share through the FileManagerServer example.</summary>
    public string Shared { get; }

    public string RegistryDirectory => Variables["MMCP_REGISTRY_PATH"];

    public void Dispose() => _root.Dispose();
}
