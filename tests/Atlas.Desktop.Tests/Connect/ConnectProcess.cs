using System.Diagnostics;
using System.Text;

namespace Atlas.Desktop.Tests.Connect;

/// <summary>Runs <c>dotnet atlas.dll connect …</c> as a real child process with its own state directory, feeding stdin
/// lines and collecting stdout and stderr.</summary>
internal sealed class ConnectProcess : IDisposable
{
    private readonly TestSandbox _sandbox = new("atc-");

    public ConnectProcess()
    {
        _sandbox.CreateWorkDirectory();
    }

    public string StateDir => _sandbox.Root;

    /// <summary>The child's working directory (for /get and /put with relative names).</summary>
    public string WorkDir => _sandbox.WorkDirectory;

    public string? CredentialsPath => Directory.Exists(Path.Combine(StateDir, "desktops"))
        ? Directory.EnumerateFiles(Path.Combine(StateDir, "desktops"), "credentials.json", SearchOption.AllDirectories).FirstOrDefault()
        : null;

    /// <summary>Pairs through <c>atlas connect LINK --json</c> with a fresh ticket of <paramref name="host"/>; returns the
    /// device id.</summary>
    public async Task<string> PairAsync(Infrastructure.AtlasTestHost host)
    {
        var url = (await host.Get<Atlas.Desktop.Pairing.PairingService>().CreateTicketAsync(TestContext.Current.CancellationToken)).Url;
        var paired = await RunAsync([url, "--name", "terminal", "--json"]);
        Assert.Equal(0, paired.ExitCode);
        return System.Text.Json.JsonDocument.Parse(paired.Stdout).RootElement.GetProperty("deviceId").GetString()!;
    }

    /// <summary>Pairs with a desktop that is then stopped; returns the settings (its port included) and data directory that
    /// start it again at the same address with the same identity.</summary>
    public async Task<(Dictionary<string, string?> Settings, string DataDir)> PairWithStoppedDesktopAsync(FakeOpenRouter fake)
    {
        var dataDir = Infrastructure.AtlasTestHost.NewDataDir();
        var settings = Chat.ChatHost.Settings(fake);
        await using (var host = await Infrastructure.AtlasTestHost.StartAsync(settings, dataDir: dataDir))
        {
            await PairAsync(host);
            settings["Atlas:Port"] = host.BaseUri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return (settings, dataDir);
    }

    /// <summary>Starts an interactive <c>atlas connect</c> to talk to line by line.</summary>
    public RunningConnect Start(params string[] args) => new(Process.Start(StartInfo(args))!);

    /// <summary>Runs <c>atlas connect --state-dir … args</c>; <paramref name="stdin"/> lines are written, then stdin is
    /// closed (end of input ends an interactive session).</summary>
    public async Task<ConnectResult> RunAsync(string[] args, params string[] stdin)
    {
        using var process = Process.Start(StartInfo(args))!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeouts.Default);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        foreach (var line in stdin)
        {
            await process.StandardInput.WriteLineAsync(line);
        }

        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var result = new ConnectResult(process.ExitCode, await stdout, await stderr);
        TestContext.Current.TestOutputHelper?.WriteLine($"atlas connect {string.Join(' ', args)} → {result.ExitCode}\n--- stdout\n{result.Stdout}\n--- stderr\n{result.Stderr}");
        return result;
    }

    private ProcessStartInfo StartInfo(string[] args)
    {
        var atlas = Path.Combine(AppContext.BaseDirectory, "atlas.dll");
        // 'env --default-signal=INT' (which then execs dotnet, keeping the process id): a suite started in the background
        // of a non-interactive shell inherits SIGINT ignored, and .NET then leaves it ignored, so Ctrl+C would never arrive.
        var start = new ProcessStartInfo("env", ["--default-signal=INT", "dotnet", atlas, "connect", "--state-dir", StateDir, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = WorkDir,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return start;
    }

    public void Dispose() => _sandbox.Dispose();
}

internal sealed record ConnectResult(int ExitCode, string Stdout, string Stderr);

/// <summary>A running interactive <c>atlas connect</c>: write lines, wait for output, press Ctrl+C (SIGINT).</summary>
internal sealed class RunningConnect : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly Task _reader;
    private readonly Task<string> _stderr;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RunningConnect(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        _reader = Task.Run(async () =>
        {
            var buffer = new char[1024];
            int read;
            while ((read = await process.StandardOutput.ReadAsync(buffer, CancellationToken.None)) > 0)
            {
                lock (_stdout)
                {
                    _stdout.Append(buffer, 0, read);
                }

                Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }

            _changed.TrySetResult();
        });
    }

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Waits until stdout contains <paramref name="text"/> <paramref name="times"/> times.</summary>
    public async Task WaitForAsync(string text, int times = 1)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeouts.Default);
        while (Count(Stdout, text) < times)
        {
            var changed = Volatile.Read(ref _changed).Task;
            if (Count(Stdout, text) >= times)
            {
                break;
            }

            if (_reader.IsCompleted)
            {
                Assert.Fail($"atlas connect ended before printing '{text}'. Output:\n{Stdout}\n{await _stderr}");
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"atlas connect did not print '{text}' in time. Output:\n{Stdout}");
            }
        }
    }

    /// <summary>Sends SIGINT, as Ctrl+C on a terminal does.</summary>
    public async Task InterruptAsync()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Waits for the exit; <paramref name="endInput"/> closes stdin first (end of input ends a session).</summary>
    public async Task<int> WaitForExitAsync(bool endInput = true)
    {
        if (endInput)
        {
            _process.StandardInput.Close();
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeouts.Default);
        await _process.WaitForExitAsync(timeout.Token);
        await _reader;
        TestContext.Current.TestOutputHelper?.WriteLine($"--- stdout\n{Stdout}\n--- stderr\n{await _stderr}");
        return _process.ExitCode;
    }


    private static int Count(string haystack, string needle)
    {
        var count = 0;
        for (var i = haystack.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = haystack.IndexOf(needle, i + needle.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
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
