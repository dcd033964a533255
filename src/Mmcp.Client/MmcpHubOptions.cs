using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Client;

/// <summary>How the hub discovers servers and how long it gives them. Validated when the hub is created.</summary>
/// <remarks>
/// The budgets are defaults: a manifest's <c>timeouts</c> override them per server. Stdio servers start during the
/// handshake, so their first handshake may take <see cref="LaunchTimeout"/> plus <see cref="HandshakeTimeout"/>
/// (cold-starting <c>npx</c> servers routinely need tens of seconds).
/// </remarks>
public sealed class MmcpHubOptions
{
    /// <summary>Gets or sets which sources discovery reads. The default reads the XDG registry directories (or <c>MMCP_REGISTRY_PATH</c>) and imports client configurations.</summary>
    public RegistryOptions Registry { get; set; } = new();

    /// <summary>Gets the servers registered in code, ahead of every other source.</summary>
    public IList<ServerManifest> Servers { get; } = [];

    /// <summary>Gets or sets a value indicating whether the registry's files are watched, so new, changed and removed servers are noticed without a call to <see cref="MmcpHub.DiscoverServersAsync"/>. The default is <see langword="true"/>.</summary>
    public bool WatchRegistry { get; set; } = true;

    /// <summary>Gets or sets how long starting a server may take: an on-demand launch until its socket listens, or a stdio process until it answers. The default is 30 seconds.</summary>
    public TimeSpan LaunchTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long the MCP handshake may take once connected. The default is 30 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long one request (a tool call, a list, a read) may take. The default is 60 seconds.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets or sets how long an unused connection stays open; <see cref="Timeout.InfiniteTimeSpan"/> keeps connections until the hub is disposed. The default is 10 minutes.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Gets or sets how long a listing waits for a server that is still starting when a cached or snapshot list can be
    /// served instead; the server keeps starting in the background and its live list replaces the cached one. The
    /// default is 1 second.
    /// </summary>
    public TimeSpan StartingServerListWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets a value indicating whether listing may start an app on demand. The default is <see langword="false"/>:
    /// a socket app that is not running is listed from its manifest snapshot (or the cached list) and only a call starts
    /// it, so listing never launches every installed app. Running servers, stdio and HTTP servers are always asked live.
    /// </summary>
    public bool LaunchToList { get; set; }

    /// <summary>Gets or sets how many times an idempotent request (list, read, get prompt) is retried on a fresh connection after the server crashed. Tool calls are never retried. The default is 1.</summary>
    public int IdempotentRetries { get; set; } = 1;

    /// <summary>Gets or sets the first delay before restarting a server that failed twice in a row; it doubles with each further failure (with jitter). A single failure never delays the next attempt. The default is 1 second.</summary>
    public TimeSpan RestartBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest delay between restart attempts. The default is 1 minute.</summary>
    public TimeSpan MaxRestartBackoff { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the directory of the tool-list cache. The default is <see langword="null"/>: <c>$XDG_CACHE_HOME/mmcp/tools</c> (or <c>~/.cache/mmcp/tools</c>).</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Gets or sets a value indicating whether live tool lists are saved to the cache directory, so later hubs list cold-starting servers at once. The default is <see langword="true"/>.</summary>
    public bool PersistToolCache { get; set; } = true;

    /// <summary>Gets or sets how many lines of a stdio server's standard error are kept for diagnostics. The default is 50.</summary>
    public int StandardErrorTailLines { get; set; } = 50;

    /// <summary>Gets or sets the MCP protocol version used with servers whose manifest pins none; <see langword="null"/> negotiates (preferring 2026-07-28). The default is <see langword="null"/>.</summary>
    public string? ProtocolVersion { get; set; }

    /// <summary>Gets or sets the name this hub reports to servers. The default is <c>mmcp-hub</c>.</summary>
    public string ClientName { get; set; } = "mmcp-hub";

    /// <summary>Gets or sets what creates the <see cref="HttpClient"/> for a remote (<c>http</c>) server, or <see langword="null"/> for
    /// the default. The factory may answer <see langword="null"/> for a server it does not handle; a client it returns is owned by
    /// the connection (for example one pinned to a paired Atlas desktop's certificate key, which adds the device's session).</summary>
    public Func<Mmcp.Core.Registry.DiscoveredServer, CancellationToken, ValueTask<HttpClient?>>? HttpClientFactory { get; set; }

    /// <summary>Gets or sets the version this hub reports to servers. The default is the Mmcp.Client assembly's version.</summary>
    public string ClientVersion { get; set; } = typeof(MmcpHubOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Checks the options, returning every problem found.</summary>
    /// <returns>The problems, each naming the option and how to fix it; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        Positive(LaunchTimeout, nameof(LaunchTimeout));
        Positive(HandshakeTimeout, nameof(HandshakeTimeout));
        Positive(CallTimeout, nameof(CallTimeout));
        Positive(StartingServerListWait, nameof(StartingServerListWait), allowZero: true);
        Positive(RestartBackoff, nameof(RestartBackoff), allowZero: true);
        Positive(MaxRestartBackoff, nameof(MaxRestartBackoff), allowZero: true);
        if (IdleTimeout != Timeout.InfiniteTimeSpan)
        {
            Positive(IdleTimeout, nameof(IdleTimeout));
        }

        if (MaxRestartBackoff < RestartBackoff)
        {
            errors.Add($"{nameof(MaxRestartBackoff)} ({MaxRestartBackoff}) is shorter than {nameof(RestartBackoff)} ({RestartBackoff}); make it at least as long.");
        }

        if (IdempotentRetries is < 0 or > 10)
        {
            errors.Add($"{nameof(IdempotentRetries)} is {IdempotentRetries}; use a value from 0 to 10.");
        }

        if (StandardErrorTailLines is < 0 or > 10_000)
        {
            errors.Add($"{nameof(StandardErrorTailLines)} is {StandardErrorTailLines}; use a value from 0 to 10000.");
        }

        if (Registry is null)
        {
            errors.Add($"{nameof(Registry)} is null; leave the default or assign a RegistryOptions.");
        }

        if (string.IsNullOrWhiteSpace(ClientName) || string.IsNullOrWhiteSpace(ClientVersion))
        {
            errors.Add($"{nameof(ClientName)} and {nameof(ClientVersion)} must not be empty.");
        }

        if (ProtocolVersion is { } version && !ProtocolVersions.IsKnown(version))
        {
            errors.Add($"{nameof(ProtocolVersion)} '{version}' is not an MCP version this hub speaks; use one of {string.Join(", ", ProtocolVersions.All)} or null to negotiate.");
        }

        foreach (var server in Servers)
        {
            if (!ServerIds.IsValidServerId(server.Id))
            {
                errors.Add($"{nameof(Servers)} contains '{server.Id}', which is not a valid server id: use lower-case letters, digits, '.', '-' and '_', without '__'.");
            }
        }

        return errors;

        void Positive(TimeSpan value, string name, bool allowZero = false)
        {
            if (value < TimeSpan.Zero || (!allowZero && value == TimeSpan.Zero) || value > TimeSpan.FromDays(1))
            {
                errors.Add($"{name} is {value}; use a duration {(allowZero ? "from zero" : "above zero")} up to one day.");
            }
        }
    }
}

/// <summary>The MCP protocol versions the hub speaks.</summary>
public static class ProtocolVersions
{
    /// <summary>The stateless revision: no <c>initialize</c> handshake; list changes arrive only on a <c>subscriptions/listen</c> stream.</summary>
    public const string Latest = "2026-07-28";

    /// <summary>The last session-based revision: <c>initialize</c> handshake, broadcast list-changed notifications, <c>ping</c>.</summary>
    public const string LatestSessionBased = "2025-11-25";

    /// <summary>Gets every version the hub speaks, newest first.</summary>
    public static IReadOnlyList<string> All { get; } = [Latest, LatestSessionBased, "2025-06-18", "2025-03-26", "2024-11-05"];

    /// <summary>Returns whether the hub speaks <paramref name="version"/>.</summary>
    /// <param name="version">A protocol version string.</param>
    /// <returns><see langword="true"/> when it is one of <see cref="All"/>.</returns>
    public static bool IsKnown(string? version) => version is not null && All.Contains(version, StringComparer.Ordinal);
}

/// <summary>The budgets that apply to one server: the hub's defaults with the manifest's overrides.</summary>
/// <param name="Launch">How long starting the server may take.</param>
/// <param name="Handshake">How long the MCP handshake may take.</param>
/// <param name="Call">How long one request may take.</param>
/// <param name="Idle">How long an unused connection stays open (<see cref="Timeout.InfiniteTimeSpan"/> for ever).</param>
public sealed record ServerBudgets(TimeSpan Launch, TimeSpan Handshake, TimeSpan Call, TimeSpan Idle)
{
    /// <summary>Combines the hub's defaults with a manifest's overrides.</summary>
    /// <param name="options">The hub options.</param>
    /// <param name="manifest">The server's manifest.</param>
    /// <returns>The budgets for that server.</returns>
    public static ServerBudgets For(MmcpHubOptions options, ServerManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(manifest);
        var t = manifest.Timeouts;
        return new ServerBudgets(
            t?.Launch ?? options.LaunchTimeout,
            t?.Handshake ?? options.HandshakeTimeout,
            t?.Call ?? options.CallTimeout,
            t?.Idle ?? options.IdleTimeout);
    }
}
