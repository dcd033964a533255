using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mmcp.Client;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Atlas.Desktop.Tests.Admin;

/// <summary>
/// A remote MCP server that needs an OAuth sign-in, made of real parts: tests/Mmcp.OAuthServer (OpenIddict) as a child
/// process, and the built <c>mmcp serve --oauth-issuer</c> in front of the reference <c>server-everything</c>; plus a
/// desktop whose hub lists it as <see cref="ServerId"/> and keeps its sign-ins in a sandbox (never the user's own
/// <c>~/.config/mmcp/oauth</c>). Everything the desktop logs is kept in <see cref="Logs"/>.
/// </summary>
internal sealed partial class OAuthRemote : IAsyncDisposable
{
    public const string ServerId = "io.test.remote";

    private readonly TestSandbox _gateway;
    private readonly TestSandbox _desktop;
    private readonly LineProcess _issuer;
    private readonly LineProcess _serve;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = true }) { Timeout = TestTimeouts.Default };

    private OAuthRemote(TestSandbox gateway, TestSandbox desktop, LineProcess issuer, Uri issuerUri, LineProcess serve, string url, AtlasTestHost host, CapturingLoggerProvider logs)
    {
        _gateway = gateway;
        _desktop = desktop;
        _issuer = issuer;
        Issuer = issuerUri;
        _serve = serve;
        Url = url;
        Host = host;
        Logs = logs;
    }

    public Uri Issuer { get; }

    /// <summary>Gets the gateway's base URL (<c>http://127.0.0.1:PORT</c>).</summary>
    public string Url { get; }

    public AtlasTestHost Host { get; }

    public CapturingLoggerProvider Logs { get; }

    /// <summary>Gets the desktop hub's sign-in directory.</summary>
    public string TokenDirectory => Path.Combine(_desktop.ConfigDirectory, "mmcp", "oauth");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<OAuthRemote> StartAsync()
    {
        var gateway = new TestSandbox("aog-");
        var desktop = new TestSandbox("aod-");
        gateway.CreateHome();
        gateway.CreateRegistry();
        gateway.CreateWorkDirectory();
        desktop.CreateHome();
        await ManifestWriter.WriteFileAsync(new ServerManifest
        {
            Id = AdminServersTests.Everything,
            Name = "Everything",
            Description = "The MCP reference test server",
            Version = "1.0.0",
            Transport = new StdioTransport { Command = "node", Args = [NpmServers.Script("server-everything"), "stdio"] },
        }, RegistryPaths.GetManifestPath(gateway.RegistryDirectory, AdminServersTests.Everything), Ct);

        var dll = OAuthServerDll();
        Assert.True(File.Exists(dll), $"{dll} is missing: build tests/Atlas.Desktop.Tests (it builds the OAuth server first).");
        var issuer = LineProcess.Start("dotnet", [dll, "--port", "0"], gateway);
        var issuerUri = new Uri((await issuer.WaitForLineAsync(l => l.StartsWith("issuer: ", StringComparison.Ordinal)))["issuer: ".Length..].Trim());
        var serve = LineProcess.Start("dotnet", [MmcpDll(), "serve", "--port", "0", "--no-import", "--registry", gateway.RegistryDirectory, "--require-token", "--oauth-issuer", issuerUri.AbsoluteUri, "--verbose"], gateway);
        var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;

        var dataDir = AtlasTestHost.NewDataDir();
        await ManifestWriter.WriteFileAsync(new ServerManifest
        {
            Id = ServerId,
            Name = "Remote (OAuth)",
            Description = "A remote MCP server behind an OAuth sign-in",
            Version = "1.0.0",
            Transport = new HttpTransport { Url = new Uri(url + "/mcp") },
        }, RegistryPaths.GetManifestPath(Path.Combine(dataDir, "registry"), ServerId), Ct);
        var logs = new CapturingLoggerProvider();
        var environment = new MmcpEnvironment(desktop.Get, desktop.Home);
        var host = await AtlasTestHost.StartAsync(dataDir: dataDir, configure: builder =>
        {
            builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace);
            builder.Services.Configure<MmcpHubOptions>(o => o.Registry.Environment = environment);
        });
        host.DeleteDataDirOnDispose = true;
        return new OAuthRemote(gateway, desktop, issuer, issuerUri, serve, url, host, logs);
    }

    /// <summary>Makes the issuer approve without its consent page (or show it again).</summary>
    public async Task SetAutoApproveAsync(bool approve)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["auto_approve"] = approve ? "true" : "false" });
        using var response = await _http.PostAsync(new Uri(Issuer, "test/settings"), content, Ct);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Follows an authorization URL as a browser would (the issuer approves at once, then redirects to the
    /// desktop's loopback callback); returns the callback page.</summary>
    public async Task<string> FollowAsync(string url)
    {
        using var response = await _http.GetAsync(new Uri(url), Ct);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    /// <summary>Every stored access and refresh token (to look for them where they must not be).</summary>
    public IReadOnlyList<string> StoredTokens() => !Directory.Exists(TokenDirectory) ? [] :
        [.. Directory.GetFiles(TokenDirectory, "*.json")
            .Select(f => System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(f))!["tokens"]!)
            .SelectMany(t => new[] { (string?)t["accessToken"], (string?)t["refreshToken"] })
            .OfType<string>().Where(t => t.Length > 0)];

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await _serve.DisposeAsync();
        await _issuer.DisposeAsync();
        _http.Dispose();
        _gateway.Dispose();
        _desktop.Dispose();
    }

    private static string OAuthServerDll() => BuiltDll("tests", "Mmcp.OAuthServer", "Mmcp.OAuthServer.dll");

    private static string MmcpDll() => BuiltDll("src", "Mmcp.Cli", "mmcp.dll");

    /// <summary>A project built beside this one (same configuration), in its own output directory.</summary>
    private static string BuiltDll(string folder, string project, string dll)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        while (configuration.Parent is { } parent && parent.Name != "bin")
        {
            configuration = parent;
        }

        var output = Repository.Path(folder, project, "bin", configuration.Name, "net10.0");
        var direct = Path.Combine(output, dll);
        return File.Exists(direct) || !Directory.Exists(output)
            ? direct
            : Directory.EnumerateFiles(output, dll, SearchOption.AllDirectories).FirstOrDefault() ?? direct;
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex UrlPattern();
}

/// <summary>A child process whose output lines are kept and waited for (no sleeps: each line wakes the waiters).</summary>
internal sealed class LineProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LineProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.Exited += (_, _) => Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public string Output => string.Join('\n', _lines);

    public static LineProcess Start(string program, IEnumerable<string> args, TestSandbox sandbox)
    {
        var start = new ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = sandbox.WorkDirectory is { } work && Directory.Exists(work) ? work : sandbox.Root,
        };
        sandbox.ApplyTo(start);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var lines = new LineProcess(process);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return lines;
    }

    public async Task<string> WaitForLineAsync(Func<string, bool> match)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeouts.Default);
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            if (_lines.FirstOrDefault(match) is { } line)
            {
                return line;
            }

            if (_process.HasExited)
            {
                Assert.Fail($"{_process.StartInfo.FileName} {string.Join(' ', _process.StartInfo.ArgumentList)} exited ({_process.ExitCode}) first:\n{Output}");
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"The expected line did not come in time:\n{Output}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default, CancellationToken.None);
        }

        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }
}

/// <summary>Keeps every log line (message and exception) the desktop writes, at every level.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception}");
    }
}
