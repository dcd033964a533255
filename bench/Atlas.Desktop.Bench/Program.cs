// Atlas desktop benchmark: pairing ticket → session → authenticated WebSocket latency, memory per idle
// authenticated connection, and the time for many authenticated clients to connect at once and each answer a ping
// (the timing and memory side of the load test, which keeps only its functional assertions), each printed with its
// ratio against a bare TLS WebSocket echo on the same Kestrel configuration measured in the same run. Loopback only;
// bounded iteration counts.
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Pairing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

var cli = Bench.BenchArgs.Parse(args, """
    Usage: Atlas.Desktop.Bench [PAIRINGS] [IDLE]
      PAIRINGS     pairings measured (default 200)
      IDLE         idle authenticated connections held (default 500)
      -h, --help   this text
    """, positional: 2);
if (cli.Exit is { } exit)
{
    return exit;
}

var iterations = cli.Positional(0, 200);
var idle = cli.Positional(1, 500);
Console.WriteLine($"Atlas desktop bench: {iterations} pairings, {idle} idle connections, {Environment.ProcessorCount} cores");

// Baseline: bare TLS WebSocket echo.
using var baselineCert = NewCertificate();
var baselinePin = SpkiPin.Compute(baselineCert);
await using var echo = await StartEchoAsync(baselineCert);
var echoUri = new Uri(echo.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("https", "wss", StringComparison.Ordinal) + "/ws");

// Atlas.
var dataDir = Path.Combine(Path.GetTempPath(), "atl-bench-" + Guid.NewGuid().ToString("N")[..8]);
var atlas = AtlasApp.Build([], new Dictionary<string, string?>
{
    ["Atlas:DataDir"] = dataDir,
    ["Atlas:Port"] = "0",
    ["Atlas:Network:Lan"] = "false",
    ["Atlas:Pairing:Approval"] = "auto",
    ["Atlas:RateLimits:AuthPerMinute"] = "1000000",
    ["Atlas:RateLimits:RequestsPerMinute"] = "1000000",
    ["Atlas:Pairing:MaxFailures"] = "1000000",
    ["Logging:LogLevel:Default"] = "Warning",
}, builder => builder.Logging.ClearProviders());
await atlas.StartAsync();
var desktop = atlas.Services.GetRequiredService<DesktopInfo>();
var pairing = atlas.Services.GetRequiredService<PairingService>();

// Warm up both paths (JIT, TLS session caches, SQLite pages).
for (var i = 0; i < 10; i++)
{
    (await EchoConnectAsync(echoUri, baselinePin)).Dispose();
    (await PairAndConnectAsync(pairing, desktop)).Dispose();
}

var baseline = new List<double>(iterations);
var full = new List<double>(iterations);
for (var i = 0; i < iterations; i++)
{
    var start = Stopwatch.GetTimestamp();
    (await EchoConnectAsync(echoUri, baselinePin)).Dispose();
    baseline.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    start = Stopwatch.GetTimestamp();
    (await PairAndConnectAsync(pairing, desktop)).Dispose();
    full.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
}

Report("TLS WebSocket connect + first echo (baseline)", baseline, null);
Report("Atlas pairing ticket → device credential → session → authenticated WebSocket", full, baseline);

// Memory per idle connection: client and server share this process, so both sides count, for both setups.
var echoBytes = await IdleMemoryAsync(idle, () => EchoConnectAsync(echoUri, baselinePin));
var tokens = new List<string>();
using (var http = AtlasClient.CreatePinnedHttpClient(desktop.AdminBaseUri, desktop.Pin, TimeSpan.FromSeconds(30)))
{
    for (var i = 0; i < idle; i++)
    {
        var credentials = await PairHttpAsync(http, pairing, "idle " + i);
        tokens.Add((await SessionAsync(http, credentials.DeviceCredential)).SessionToken);
    }
}

var next = 0;
var atlasBytes = await IdleMemoryAsync(idle, () => ConnectAuthenticatedAsync(desktop, tokens[next++]));
Console.WriteLine($"{"Idle connection memory, baseline echo (client + server)",-80} {echoBytes / 1024.0,8:0.0} KiB");
Console.WriteLine($"{"Idle authenticated Atlas connection (client + server)",-80} {atlasBytes / 1024.0,8:0.0} KiB   ratio {atlasBytes / echoBytes:0.00}x");

// Load: every client connects at once (32 handshakes in flight) and then answers one round trip on its socket.
var echoLoad = await LoadAsync(idle, _ => EchoConnectAsync(echoUri, baselinePin), (socket, i) => EchoRoundTripAsync(socket, i));
var atlasLoad = await LoadAsync(idle, i => ConnectAuthenticatedAsync(desktop, tokens[i]), (socket, i) => PingAsync(socket, i));
Console.WriteLine($"{$"{idle} clients connect at once + one round trip each, baseline echo",-80} {echoLoad.TotalMilliseconds,8:0} ms");
Console.WriteLine($"{$"{idle} authenticated Atlas clients connect at once + ping/pong each",-80} {atlasLoad.TotalMilliseconds,8:0} ms   ratio {atlasLoad / echoLoad:0.00}x");

await atlas.StopAsync();
await atlas.DisposeAsync();
Directory.Delete(dataDir, recursive: true);
return 0;

static void Report(string name, List<double> samples, List<double>? baseline)
{
    var p50 = Percentile(samples, 0.50);
    var p99 = Percentile(samples, 0.99);
    var ratio = baseline is null ? "" : $"   ratio p50 {p50 / Percentile(baseline, 0.50):0.00}x, p99 {p99 / Percentile(baseline, 0.99):0.00}x";
    Console.WriteLine($"{name,-80} p50 {p50,7:0.00} ms   p99 {p99,7:0.00} ms{ratio}");
}

static double Percentile(List<double> samples, double p)
{
    var sorted = samples.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

static async Task<double> IdleMemoryAsync(int count, Func<Task<ClientWebSocket>> connect)
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var sockets = new List<ClientWebSocket>(count);
    for (var i = 0; i < count; i++)
    {
        sockets.Add(await connect());
    }

    GC.Collect();
    GC.WaitForPendingFinalizers();
    var after = GC.GetTotalMemory(forceFullCollection: true);
    foreach (var socket in sockets)
    {
        socket.Abort();
        socket.Dispose();
    }

    return (after - before) / (double)count;
}

static async Task<TimeSpan> LoadAsync(int count, Func<int, Task<ClientWebSocket>> connect, Func<ClientWebSocket, int, Task> roundTrip)
{
    var sockets = new ClientWebSocket[count];
    using var throttle = new SemaphoreSlim(32);
    var start = Stopwatch.GetTimestamp();
    await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
    {
        await throttle.WaitAsync();
        try
        {
            sockets[i] = await connect(i);
        }
        finally
        {
            throttle.Release();
        }
    }));
    await Task.WhenAll(sockets.Select((socket, i) => roundTrip(socket, i)));
    var elapsed = Stopwatch.GetElapsedTime(start);
    foreach (var socket in sockets)
    {
        socket.Abort();
        socket.Dispose();
    }

    return elapsed;
}

static async Task PingAsync(ClientWebSocket socket, int i)
{
    var re = $"\"re\":\"p{i}\"";
    await socket.SendAsync(Encoding.UTF8.GetBytes($$"""{"v":1,"type":"ping","id":"p{{i}}"}"""), WebSocketMessageType.Text, true, CancellationToken.None);
    while (!(await ReceiveAsync(socket)).Contains(re, StringComparison.Ordinal))
    {
        // Skip what the desktop sends first (status updates).
    }
}

static async Task EchoRoundTripAsync(ClientWebSocket socket, int i)
{
    await socket.SendAsync(Encoding.UTF8.GetBytes($$"""{"v":1,"type":"ping","id":"p{{i}}"}"""), WebSocketMessageType.Text, true, CancellationToken.None);
    await ReceiveAsync(socket);
}

static async Task<ClientWebSocket> PairAndConnectAsync(PairingService pairing, DesktopInfo desktop)
{
    // A phone that scanned the QR: a fresh TLS connection, ticket redemption, session, socket.
    using var http = AtlasClient.CreatePinnedHttpClient(desktop.AdminBaseUri, desktop.Pin, TimeSpan.FromSeconds(30));
    var credentials = await PairHttpAsync(http, pairing, "bench");
    var session = await SessionAsync(http, credentials.DeviceCredential);
    return await ConnectAuthenticatedAsync(desktop, session.SessionToken);
}

static async Task<PairingResponse> PairHttpAsync(HttpClient http, PairingService pairing, string name)
{
    var link = PairingLink.Parse((await pairing.CreateTicketAsync(CancellationToken.None)).Url);
    using var response = await http.PostAsJsonAsync("auth", new AuthRequest
    {
        GrantType = AtlasProtocol.GrantPairingTicket,
        Ticket = link.Ticket,
        DeviceName = name,
        Platform = "bench",
    }, AtlasJsonContext.Default.AuthRequest);
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.PairingResponse))!;
}

static async Task<SessionResponse> SessionAsync(HttpClient http, string credential)
{
    using var response = await http.PostAsJsonAsync("auth", new AuthRequest
    {
        GrantType = AtlasProtocol.GrantDeviceCredential,
        DeviceCredential = credential,
    }, AtlasJsonContext.Default.AuthRequest);
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.SessionResponse))!;
}

static async Task<ClientWebSocket> ConnectAuthenticatedAsync(DesktopInfo desktop, string token)
{
    var socket = Pinned(desktop.Pin);
    await socket.ConnectAsync(new UriBuilder(desktop.AdminBaseUri) { Scheme = "wss", Path = "/ws" }.Uri, CancellationToken.None);
    var auth = JsonSerializer.SerializeToUtf8Bytes(new AtlasEnvelope
    {
        Type = MessageTypes.Auth,
        Id = "a",
        Data = JsonSerializer.SerializeToElement(new AuthFrame { Token = token }, AtlasJsonContext.Default.AuthFrame),
    }, AtlasJsonContext.Default.AtlasEnvelope);
    await socket.SendAsync(auth, WebSocketMessageType.Text, true, CancellationToken.None);
    var reply = await ReceiveAsync(socket);
    if (!reply.Contains("\"auth_success\"", StringComparison.Ordinal))
    {
        throw new InvalidOperationException("Authentication failed: " + reply);
    }

    return socket;
}

static async Task<ClientWebSocket> EchoConnectAsync(Uri uri, string pin)
{
    var socket = Pinned(pin);
    await socket.ConnectAsync(uri, CancellationToken.None);
    await socket.SendAsync("""{"v":1,"type":"auth","id":"a","data":{"token":"x"}}"""u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
    await ReceiveAsync(socket);
    return socket;
}

static ClientWebSocket Pinned(string pin)
{
    var socket = new ClientWebSocket();
    socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => SpkiPin.Matches(certificate, pin);
    socket.Options.SetBuffer(4096, 4096);
    return socket;
}

static async Task<string> ReceiveAsync(ClientWebSocket socket)
{
    var buffer = new byte[16 * 1024];
    var total = 0;
    while (true)
    {
        var result = await socket.ReceiveAsync(buffer.AsMemory(total), CancellationToken.None);
        total += result.Count;
        if (result.EndOfMessage)
        {
            return Encoding.UTF8.GetString(buffer, 0, total);
        }
    }
}

static X509Certificate2 NewCertificate()
{
    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    var request = new CertificateRequest("CN=bench", key, HashAlgorithmName.SHA256);
    return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
}

static async Task<WebApplication> StartEchoAsync(X509Certificate2 certificate)
{
    var builder = WebApplication.CreateBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
    var app = builder.Build();
    app.UseWebSockets();
    app.Map("/ws", async (HttpContext context) =>
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[4096];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, result.Count), WebSocketMessageType.Text, result.EndOfMessage, CancellationToken.None);
        }
    });
    await app.StartAsync();
    return app;
}
