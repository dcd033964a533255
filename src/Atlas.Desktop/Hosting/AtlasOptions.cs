using Atlas.Client.Protocol;

namespace Atlas.Desktop.Hosting;

/// <summary>The <c>Atlas</c> configuration section (appsettings.json, <c>Atlas__…</c> environment variables, flags).</summary>
internal sealed class AtlasOptions
{
    public const string Section = "Atlas";

    /// <summary>Data directory. Default <c>$XDG_DATA_HOME/atlas</c>, else <c>~/.local/share/atlas</c>. Flag: <c>--data-dir</c>.</summary>
    public string? DataDir { get; set; }

    /// <summary>HTTPS port on every chosen interface. Default 47321; 0 picks a free port. Flag: <c>--port</c>.</summary>
    public int Port { get; set; } = AtlasProtocol.DefaultPort;

    /// <summary>The desktop's name shown on phones. Default: the machine name.</summary>
    public string Name { get; set; } = Environment.MachineName;

    public NetworkOptions Network { get; set; } = new();

    public CertificateOptions Certificate { get; set; } = new();

    public TlsOptions Tls { get; set; } = new();

    public PairingOptions Pairing { get; set; } = new();

    public SessionOptions Sessions { get; set; } = new();

    public RealtimeOptions WebSocket { get; set; } = new();

    public FilesOptions Files { get; set; } = new();

    public RateLimitOptions RateLimits { get; set; } = new();

    public LlmOptions Llm { get; set; } = new();

    public Chat.ChatFeatureOptions Chat { get; set; } = new();

    public HubOptions Hub { get; set; } = new();

    public NotificationOptions Notifications { get; set; } = new();

    public TelemetryOptions Telemetry { get; set; } = new();
}

/// <summary>The <c>Atlas:Telemetry</c> section (docs/observability.md). OTLP export is turned on by the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable, not here.</summary>
internal sealed class TelemetryOptions
{
    /// <summary>Serve Prometheus text at <c>http://127.0.0.1:{PrometheusPort}/metrics</c>. Default false. Flag:
    /// <c>--metrics</c>. The scrape has no authentication, so it is a separate plain-HTTP listener on loopback only and
    /// never on the phone-facing port.</summary>
    public bool Prometheus { get; set; }

    /// <summary>The loopback port of <c>/metrics</c>. Default 9464 (the Prometheus exporter's usual port).</summary>
    public int PrometheusPort { get; set; } = 9464;
}

/// <summary>The <c>Atlas:Notifications</c> section: how the desktop user hears about a phone waiting for approval
/// (besides the admin page and the <c>atlas serve</c> terminal, which always show it).</summary>
internal sealed class NotificationOptions
{
    /// <summary>Show a desktop notification through <see cref="Command"/>. Default true; skipped quietly (a debug log)
    /// when the command is not installed.</summary>
    public bool Desktop { get; set; } = true;

    /// <summary>The notification command, run with an argument list (never a shell): a name looked up on <c>PATH</c> or
    /// an absolute path. Default <c>notify-send</c> (Debian: libnotify-bin).</summary>
    public string Command { get; set; } = "notify-send";
}

/// <summary>The <c>Atlas:Hub</c> section: where the desktop's Mmcp hub finds MCP servers for chat tools.</summary>
internal sealed class HubOptions
{
    /// <summary>Manifest directories. Default empty: <c>MMCP_REGISTRY_PATH</c>, else <c>$XDG_DATA_HOME/mmcp/servers</c> and
    /// each <c>$XDG_DATA_DIRS/mmcp/servers</c>.</summary>
    public List<string> RegistryDirectories { get; set; } = [];

    /// <summary>Also use the servers configured for Claude Desktop, VS Code and Cursor (read only). Default true.</summary>
    public bool ImportClientConfigs { get; set; } = true;

    /// <summary>The consent file shared with <c>mmcp consent</c> and the Mmcp gateway. Default null:
    /// <c>$XDG_CONFIG_HOME/mmcp/consent.json</c>, so a decision made in one place holds in the others.</summary>
    public string? ConsentFile { get; set; }

    /// <summary>What happens to tools nobody has decided on yet. Default <see cref="Mmcp.Client.Consent.ConsentPolicy.TrustOnFirstUse"/>
    /// (pinned when first offered, held when their definition changes); <c>AskFirst</c> offers nothing until allowed.</summary>
    public Mmcp.Client.Consent.ConsentPolicy ConsentPolicy { get; set; } = Mmcp.Client.Consent.ConsentPolicy.TrustOnFirstUse;

    /// <summary>How many <c>/mcp</c> requests (the hub's tools for paired devices) one device may have running at once.</summary>
    public int McpRequestsPerDevice { get; set; } = 4;
}

internal sealed class NetworkOptions
{
    /// <summary>Listen on private LAN interfaces besides loopback. Default true.</summary>
    public bool Lan { get; set; } = true;

    /// <summary>Interface names or IP addresses to listen on. Default empty: every private address of physical adapters
    /// (VPN, virtual and container adapters skipped).</summary>
    public List<string> Interfaces { get; set; } = [];

    /// <summary>Accept peers in 100.64.0.0/10 (Tailscale). Default false.</summary>
    public bool AllowCgnat { get; set; }

    /// <summary>Extra host names accepted in the Host header (a real hostname for a user-supplied certificate).</summary>
    public List<string> AllowedHosts { get; set; } = [];
}

internal sealed class CertificateOptions
{
    /// <summary>PEM or PFX certificate to use instead of the self-signed identity.</summary>
    public string? Path { get; set; }

    /// <summary>PEM private key for <see cref="Path"/> (when it is a PEM certificate).</summary>
    public string? KeyPath { get; set; }

    /// <summary>Password of a PFX file.</summary>
    public string? Password { get; set; }
}

/// <summary>The <c>Atlas:Tls</c> section: quick mode (self-signed, trust on first use) or trusted mode (the desktop as a
/// name-constrained local CA that phones install). See docs/atlas-security.md.</summary>
internal sealed class TlsOptions
{
    /// <summary><c>self-signed</c> (default, quick mode) or <c>local-ca</c> (trusted mode). Flag: <c>--tls-mode</c>. When
    /// set it wins over the choice made in the admin UI or with <c>atlas tls mode</c>.</summary>
    public string Mode { get; set; } = "self-signed";

    /// <summary>Lifetime of a serving certificate in trusted mode; a new one is issued when two thirds of it have passed.
    /// Default 7 days (between 1 hour and 397 days).</summary>
    public TimeSpan CertificateLifetime { get; set; } = TimeSpan.FromDays(7);
}

internal sealed class PairingOptions
{
    /// <summary><c>prompt</c> (default): the desktop user approves each device; <c>auto</c>: approve at once (headless).</summary>
    public string Approval { get; set; } = "prompt";

    /// <summary>How long a pairing ticket stays valid. Default 2 minutes.</summary>
    public TimeSpan TicketLifetime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a redeemed pairing waits for approval before it is denied. Default 5 minutes.</summary>
    public TimeSpan ApprovalTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Failed redemptions (any address) within <see cref="FailureWindow"/> that close pairing. Default 5.</summary>
    public int MaxFailures { get; set; } = 5;

    /// <summary>Addresses with failed redemptions within <see cref="FailureWindow"/> that close pairing for everyone until
    /// the desktop user shows a new QR code. Default 10.</summary>
    public int MaxFailingAddresses { get; set; } = 10;

    /// <summary>Window for <see cref="MaxFailures"/>. Default 10 minutes.</summary>
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Permissions a newly approved device gets.</summary>
    public List<string> DefaultPermissions { get; set; } =
        [Permissions.Chat, Permissions.FilesRead, Permissions.FilesWrite, Permissions.MediaProcess];

    public bool AutoApprove => string.Equals(Approval, "auto", StringComparison.OrdinalIgnoreCase);
}

internal sealed class SessionOptions
{
    /// <summary>Session token lifetime. Default 30 minutes.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(30);
}

internal sealed class RealtimeOptions
{
    /// <summary>Time a new socket has to send its <c>auth</c> frame. Default 10 s.</summary>
    public TimeSpan AuthTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Heartbeat interval (server <c>ping</c> frames and WebSocket pings). Default 15 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Missed heartbeat intervals before a silent socket is closed. Default 3.</summary>
    public int HeartbeatMisses { get; set; } = 3;

    /// <summary>Largest accepted frame. Default 1 MiB.</summary>
    public int MaxFrameBytes { get; set; } = 1024 * 1024;

    /// <summary>Live sockets per device. Default 4.</summary>
    public int MaxConnectionsPerDevice { get; set; } = 4;

    /// <summary>Live sockets in total. Default 5000.</summary>
    public int MaxConnections { get; set; } = 5000;

    /// <summary>Frames a device may send per second, averaged over 10 s. Default 50.</summary>
    public int MaxFramesPerSecond { get; set; } = 50;

    /// <summary>Sockets upgraded but not yet past their <c>auth</c> frame, in total. Default 64.</summary>
    public int MaxUnauthenticatedConnections { get; set; } = 64;

    /// <summary>Sockets upgraded but not yet past their <c>auth</c> frame, per remote address. Default 32.</summary>
    public int MaxUnauthenticatedConnectionsPerAddress { get; set; } = 32;

    /// <summary>Queued outbound frames per socket. The receive loop stops reading requests while half of it is taken
    /// (back-pressure); a peer that stops reading while the whole queue fills is disconnected. Default 256.</summary>
    public int SendQueueLength { get; set; } = 256;

    /// <summary>At the per-device socket limit, a new socket replaces the device's oldest socket that has sent nothing
    /// for longer than this (a half-open connection); must exceed <see cref="HeartbeatInterval"/>, since a live client
    /// sends at least a ping per interval. Default 30 s.</summary>
    public TimeSpan ReplaceSilentAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Request-id cache: bytes of ids and answers kept per device. Default 4 MiB.</summary>
    public long IdempotencyBytesPerDevice { get; set; } = 4L << 20;

    /// <summary>Request-id cache: bytes kept for all devices together. Default 64 MiB.</summary>
    public long IdempotencyBytes { get; set; } = 64L << 20;

    /// <summary>Request-id cache: larger answers are not kept (a replay of a read reads again). Default 64 KiB.</summary>
    public int IdempotencyMaxAnswerBytes { get; set; } = 64 * 1024;

    /// <summary>Request-id cache: how long an id and its answer are kept. Default 10 minutes.</summary>
    public TimeSpan IdempotencyLifetime { get; set; } = TimeSpan.FromMinutes(10);
}

internal sealed class FilesOptions
{
    /// <summary>Default storage quota per device. Default 1 GiB.</summary>
    public long DefaultQuotaBytes { get; set; } = 1L << 30;

    /// <summary>Largest single file. Default 512 MiB.</summary>
    public long MaxFileBytes { get; set; } = 512L << 20;

    /// <summary>Largest read answered inside one WebSocket frame. Default 512 KiB.</summary>
    public int MaxFrameReadBytes { get; set; } = 512 * 1024;

    /// <summary>Most files and directories per device. Default 100000.</summary>
    public int MaxEntries { get; set; } = 100_000;

    /// <summary>How long an idle resumable upload is kept. Default 24 hours.</summary>
    public TimeSpan UploadLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Most resumable upload sessions a device may have open at once (each reserves its size of the quota).
    /// Default 8.</summary>
    public int MaxOpenUploads { get; set; } = 8;
}

internal sealed class RateLimitOptions
{
    /// <summary><c>POST /auth</c> credential grants (device credential → session) per address per minute. Default 20.</summary>
    public int AuthPerMinute { get; set; } = 20;

    /// <summary><c>POST /auth</c> ticket redemptions and malformed auth requests per address per minute, counted apart from
    /// credential grants. Default 20.</summary>
    public int PairingPerMinute { get; set; } = 20;

    /// <summary>Upload requests per device per minute. Default 600.</summary>
    public int UploadsPerMinute { get; set; } = 600;

    /// <summary>Other REST requests per device per minute. Default 1200.</summary>
    public int RequestsPerMinute { get; set; } = 1200;
}

internal sealed class LlmOptions
{
    public const string OpenRouterBaseUrl = "https://openrouter.ai/api/v1";

    /// <summary>API key. For OpenRouter the <c>OPENROUTER_API_KEY</c> environment variable is used when empty; other
    /// endpoints (Ollama, LM Studio, vLLM, llama.cpp) usually need none.</summary>
    public string? ApiKey { get; set; }

    /// <summary>OpenAI-compatible base URL (the part before <c>/chat/completions</c>). Default OpenRouter
    /// (<c>https://openrouter.ai/api/v1</c>); for example <c>http://127.0.0.1:11434/v1</c> for Ollama.</summary>
    public string BaseUrl { get; set; } = OpenRouterBaseUrl;

    /// <summary>The model used when a message names none. Default <c>openai/gpt-4o-mini</c>.</summary>
    public string Model { get; set; } = "openai/gpt-4o-mini";

    /// <summary>Models a device may pick. Default empty: any model the endpoint lists in <c>GET /models</c>.</summary>
    public List<string> AllowedModels { get; set; } = [];

    /// <summary>Sent as <c>HTTP-Referer</c> (OpenRouter app attribution). Default <c>https://github.com/atlas-mmcp/atlas</c>.</summary>
    public string Referer { get; set; } = "https://github.com/atlas-mmcp/atlas";

    /// <summary>Sent as <c>X-OpenRouter-Title</c> and <c>X-Title</c>. Default <c>Atlas</c>.</summary>
    public string Title { get; set; } = "Atlas";

    /// <summary>How long the endpoint may send nothing at all (not even a keep-alive comment) before the request fails
    /// with <c>llm_timeout</c>. Default 2 minutes.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Retries of a request that failed before streaming started (408, 502, 503, connection refused). Never a
    /// provider's 429 (the phone shows the rate limit with its wait) and never after the first byte of a stream. Default 2.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>The longest wait a retry may take (a longer Retry-After is reported to the client instead). Default 10 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the endpoint's model list is cached. Default 10 minutes.</summary>
    public TimeSpan ModelsCacheDuration { get; set; } = TimeSpan.FromMinutes(10);

    public bool IsOpenRouter => Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri)
        && uri.Host.Equals("openrouter.ai", StringComparison.OrdinalIgnoreCase);

    /// <summary>The key to send: the configured one, else (OpenRouter only) <c>OPENROUTER_API_KEY</c>. An OpenRouter key
    /// from the environment is never sent to another endpoint.</summary>
    public string? ResolveApiKey() =>
        !string.IsNullOrWhiteSpace(ApiKey) ? ApiKey.Trim()
        : IsOpenRouter && Environment.GetEnvironmentVariable("OPENROUTER_API_KEY") is { Length: > 0 } env ? env.Trim()
        : null;

    /// <summary>Whether chat can work: OpenRouter needs a key, other endpoints do not.</summary>
    public bool IsConfigured => !IsOpenRouter || ResolveApiKey() is not null;
}
