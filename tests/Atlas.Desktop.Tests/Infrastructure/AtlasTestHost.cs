using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Credentials;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Pairing;
using Atlas.Desktop.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Atlas.Desktop.Tests.Infrastructure;

/// <summary>A real atlas host: Kestrel with the real TLS identity on a free loopback port, a real SQLite file and a
/// real control socket, in a fresh data directory.</summary>
internal sealed class AtlasTestHost : IAsyncDisposable
{
    private AtlasTestHost(WebApplication app, string dataDir, bool ownsDataDir)
    {
        App = app;
        DataDir = dataDir;
        DeleteDataDirOnDispose = ownsDataDir;
    }

    /// <summary>Whether disposing deletes the data directory (true when the host made it).</summary>
    public bool DeleteDataDirOnDispose { get; set; }

    public WebApplication App { get; }

    public string DataDir { get; }

    public DesktopInfo Desktop => Get<DesktopInfo>();

    public Uri BaseUri => Desktop.AdminBaseUri;

    public string Pin => Desktop.Pin;

    public T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>Starts a host. With <paramref name="dataDir"/> it reuses that directory (a restart) and leaves it in place
    /// when disposed; otherwise it makes a fresh one and deletes it. <paramref name="configure"/> adds to the host as it
    /// is built (a <see cref="DesktopLink"/>).</summary>
    public static async Task<AtlasTestHost> StartAsync(IDictionary<string, string?>? settings = null, TimeProvider? time = null, string? dataDir = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        var ownsDataDir = dataDir is null;
        dataDir ??= NewDataDir();
        var overrides = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Atlas:DataDir"] = dataDir,
            ["Atlas:Port"] = "0",
            ["Atlas:Network:Lan"] = "false",
            ["Atlas:Pairing:Approval"] = "auto",
            ["Atlas:RateLimits:AuthPerMinute"] = "100000",
            ["Atlas:RateLimits:PairingPerMinute"] = "100000",
            ["Atlas:RateLimits:RequestsPerMinute"] = "100000",
            ["Atlas:RateLimits:UploadsPerMinute"] = "100000",
            ["Atlas:Name"] = "Test desktop",

            // The hub sees only the servers a test puts in this data directory, never the machine's own configs.
            ["Atlas:Hub:ImportClientConfigs"] = "false",
            ["Atlas:Hub:RegistryDirectories:0"] = Path.Combine(dataDir, "registry"),

            // Consent decisions go to this data directory, never to the user's own ~/.config/mmcp/consent.json.
            ["Atlas:Hub:ConsentFile"] = Path.Combine(dataDir, "consent.json"),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            overrides[key] = value;
        }

        var app = AtlasApp.Build([], overrides, builder =>
        {
            builder.Logging.ClearProviders();
            if (Environment.GetEnvironmentVariable("ATLAS_TEST_LOG") == "1")
            {
                builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Debug);
            }

            if (time is not null)
            {
                builder.Services.AddSingleton(new AtlasTime(time));
            }

            configure?.Invoke(builder);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new AtlasTestHost(app, dataDir, ownsDataDir);
    }

    public static string NewDataDir() => Path.Combine(Path.GetTempPath(), "atl-" + Guid.NewGuid().ToString("N")[..10]);

    public static FakeTimeProvider NewFakeTime() => new(DateTimeOffset.UtcNow) { AutoAdvanceAmount = TimeSpan.Zero };

    public async Task<PairingLink> NewLinkAsync() =>
        PairingLink.Parse((await Get<PairingService>().CreateTicketAsync(TestContext.Current.CancellationToken)).Url);

    /// <summary>Pairs a device through the real pairing flow (auto approval unless configured otherwise).</summary>
    public async Task<DeviceCredentials> PairAsync(string name = "Phone", TimeProvider? clientTime = null)
    {
        var link = await NewLinkAsync();
        return await AtlasClient.PairAsync(link, name, "dotnet", options: ClientOptions(clientTime),
            cancellationToken: TestContext.Current.CancellationToken);
    }

    public static AtlasClientOptions ClientOptions(TimeProvider? time = null) => new()
    {
        TimeProvider = time ?? TimeProvider.System,
        ReconnectBaseDelay = TimeSpan.FromMilliseconds(20),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
    };

    public async Task<AtlasClient> PairClientAsync(string name = "Phone") => new(await PairAsync(name), ClientOptions());

    /// <summary>Creates an active device and a session directly in the stores (for load tests that must not go
    /// through the auth rate limiter).</summary>
    public async Task<(string DeviceId, string Token)> ProvisionAsync(string name)
    {
        var devices = Get<IDeviceStore>();
        var id = Secrets.NewDeviceId();
        var now = DateTimeOffset.UtcNow;
        await devices.AddAsync(new DeviceRecord(id, name, "test", DeviceRecord.Active, Secrets.Hash(Secrets.NewSecret()), "000000",
            [Permissions.Chat, Permissions.FilesRead, Permissions.FilesWrite], 1 << 20, now, now, null, null), TestContext.Current.CancellationToken);
        var token = Secrets.SessionPrefix + Secrets.NewSecret();
        await Get<ISessionStore>().AddAsync(Secrets.Hash(token), id, now, now.AddHours(1), TestContext.Current.CancellationToken);
        return (id, token);
    }

    public HttpClient PinnedHttp() => AtlasClient.CreatePinnedHttpClient(BaseUri, Pin, TestTimeouts.Default);

    public ClientWebSocket NewSocket(string? origin = null)
    {
        var socket = new ClientWebSocket();
        var pin = Pin;
        socket.Options.RemoteCertificateValidationCallback = (_, certificate, chain, _) => SpkiPin.Matches(certificate, chain, pin);
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        return socket;
    }

    public Uri WebSocketUri => new UriBuilder(BaseUri) { Scheme = "wss", Path = "/ws" }.Uri;

    /// <summary>Connects and authenticates a raw socket; returns it with the auth_success frame.</summary>
    public async Task<(ClientWebSocket Socket, AtlasEnvelope Reply)> ConnectRawAsync(string token)
    {
        var socket = NewSocket();
        await socket.ConnectAsync(WebSocketUri, TestContext.Current.CancellationToken);
        await SendAsync(socket, new AtlasEnvelope { Type = MessageTypes.Auth, Id = "a1", Data = JsonSerializer.SerializeToElement(new AuthFrame { Token = token }, AtlasJsonContext.Default.AuthFrame) });
        var reply = await ReceiveAsync(socket);
        return (socket, reply!);
    }

    public static Task SendAsync(WebSocket socket, AtlasEnvelope envelope) =>
        SendTextAsync(socket, JsonSerializer.Serialize(envelope, AtlasJsonContext.Default.AtlasEnvelope));

    public static async Task SendTextAsync(WebSocket socket, string text) =>
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);

    /// <summary>Receives the next frame, or null when the server closed the socket.</summary>
    public static async Task<AtlasEnvelope?> ReceiveAsync(WebSocket socket)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeouts.Default);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return JsonSerializer.Deserialize(message.ToArray(), AtlasJsonContext.Default.AtlasEnvelope);
            }
        }
    }

    /// <summary>Receives frames until one of the given type (skipping pings and status updates unless asked for).</summary>
    public static async Task<AtlasEnvelope?> ReceiveTypeAsync(WebSocket socket, params string[] types)
    {
        while (true)
        {
            var frame = await ReceiveAsync(socket);
            if (frame is null || types.Contains(frame.Type))
            {
                return frame;
            }
        }
    }

    public async Task<HttpResponseMessage> PostAuthAsync(HttpClient http, AuthRequest request) =>
        await http.PostAsJsonAsync("auth", request, AtlasJsonContext.Default.AuthRequest, TestContext.Current.CancellationToken);

    public static async Task<string?> ErrorCodeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ErrorResponse, TestContext.Current.CancellationToken))?.Error.Code;

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
        if (!DeleteDataDirOnDispose)
        {
            return;
        }

        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
