using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mmcp.Client;
using Mmcp.Client.Consent;
using Mmcp.Client.Diagnostics;
using Mmcp.Core.Naming;
using Mmcp.Gateway.Audit;
using Mmcp.Gateway.Diagnostics;
using Mmcp.Gateway.Errors;
using Mmcp.Gateway.Security;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Aggregation;

/// <summary>A tool as the gateway exposes it: its aggregated name, its server, its definition and the definition's pin.</summary>
internal sealed record CatalogTool(string Name, string ServerId, Tool Tool, string Hash)
{
    /// <summary>Returns the definition under the aggregated name.</summary>
    public Tool ToExposed() => new()
    {
        Name = Name,
        Title = Tool.Title,
        Description = Tool.Description,
        InputSchema = Tool.InputSchema,
        OutputSchema = Tool.OutputSchema,
        Annotations = Tool.Annotations,
        Icons = Tool.Icons,
        Meta = Tool.Meta,
    };

    /// <summary>Returns the definition under the aggregated name as JSON (<see cref="ListJson.Item"/>).</summary>
    public JsonObject ToExposedJson() => ListJson.Item(ToExposed(), Tool, ResultJson.TryGet);

    /// <summary>A <c>tools/list</c> result of these tools under their aggregated names (<see cref="ListJson"/>).</summary>
    public static ListToolsResult ListResult(IReadOnlyList<CatalogTool> tools, string? nextCursor)
    {
        var exposed = tools.Select(t => (Exposed: t.ToExposed(), Source: t.Tool)).ToList();
        return ListJson.Attach(new ListToolsResult { Tools = [.. exposed.Select(e => e.Exposed)], NextCursor = nextCursor }, "tools", [.. exposed.Select(e => ListJson.Item(e.Exposed, e.Source, ResultJson.TryGet))]);
    }
}

/// <summary>
/// The gateway's view of the hub's tools with consent applied, shared by every face (MCP, REST, OpenAPI, stdio, the
/// meta-tools): a snapshot of the aggregated list (rebuilt when the hub reports a change), consent checks with the
/// definition pins cached per definition, and the one audited call path.
/// </summary>
internal sealed class GatewayCatalog : IDisposable
{
    private readonly MmcpHub _hub;
    private readonly ConsentStore _consent;
    private readonly AuditLog _audit;
    private readonly TimeProvider _time;
    private readonly ConditionalWeakTable<Tool, string> _hashes = [];
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Snapshot? _snapshot;
    private Task? _discovered;
    private long _version;

    public GatewayCatalog(MmcpHub hub, ConsentStore consent, AuditLog audit, TimeProvider time, UpstreamTraffic traffic)
    {
        _hub = hub;
        Traffic = traffic;
        _consent = consent;
        _audit = audit;
        _time = time;
        _hub.ListChanged += OnHubChanged;
        _hub.ServersChanged += OnHubChanged;
        traffic.Hidden = IsServerDenied;
    }

    /// <summary>Returns whether the user denied the whole server: then nothing of it is listed, read, called or forwarded, on any face.</summary>
    public bool IsServerDenied(string serverId) => IsServerDenied(_consent, serverId);

    /// <summary>The same question of a consent store, for what holds no catalog (the session directory).</summary>
    internal static bool IsServerDenied(ConsentStore consent, string serverId) => consent.GetServer(serverId)?.Decision == ConsentDecision.Deny;

    /// <summary>
    /// Returns whether the server's resources and prompts may be offered: not when the user denied the server, and under
    /// <see cref="ConsentPolicy.AskFirst"/> only once the user allowed the server as a whole (allowing one of its tools
    /// offers that tool).
    /// </summary>
    public bool ExposesServer(string serverId) => _consent.GetServer(serverId)?.Decision switch
    {
        ConsentDecision.Deny => false,
        ConsentDecision.Allow => true,
        _ => _consent.Policy != ConsentPolicy.AskFirst,
    };

    /// <summary>Refuses a request for a resource, prompt or completion of a server whose resources and prompts are not offered (<see cref="ExposesServer"/>), as a call to a tool nobody allowed is refused.</summary>
    /// <exception cref="McpProtocolException">The server is denied, or not allowed yet (<see cref="GatewayErrors.ConsentRefusedCode"/>).</exception>
    public void ThrowIfNotExposed(string serverId)
    {
        if (!ExposesServer(serverId))
        {
            GatewayTelemetry.RecordRefusal("consent");
            throw GatewayErrors.ConsentRefused(
                IsServerDenied(serverId) ? DeniedMessage(serverId) : $"Server '{serverId}' has not been allowed yet. Allow it with 'mmcp consent allow {serverId}'.",
                serverId);
        }
    }

    /// <summary>What a request for a denied server is told.</summary>
    public static string DeniedMessage(string serverId) => $"Server '{serverId}' is denied by the user. Allow it with 'mmcp consent allow {serverId}'.";

    /// <summary>The resources and templates of the servers whose resources are offered (<see cref="ExposesServer"/>).</summary>
    public async ValueTask<(IReadOnlyList<HubResource> Resources, IReadOnlyList<HubResourceTemplate> Templates, ResourceListing Listing)> ListResourcesAsync(CancellationToken cancellationToken)
    {
        var listing = await _hub.ListResourcesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return ([.. listing.Resources.Where(r => ExposesServer(r.ServerId))], [.. listing.Templates.Where(t => ExposesServer(t.ServerId))], listing);
    }

    /// <summary>The prompts of the servers whose prompts are offered (<see cref="ExposesServer"/>).</summary>
    public async ValueTask<(IReadOnlyList<HubPrompt> Prompts, PromptListing Listing)> ListPromptsAsync(CancellationToken cancellationToken)
    {
        var listing = await _hub.ListPromptsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return ([.. listing.Prompts.Where(p => ExposesServer(p.ServerId))], listing);
    }

    /// <summary>Raised (after the snapshot was dropped) when servers or their lists change, for pushing <c>list_changed</c>.</summary>
    public event Action<HubListKind>? Changed;

    public MmcpHub Hub => _hub;

    /// <summary>Gets the router of what upstream servers send on their own (questions, log messages, resource updates).</summary>
    public UpstreamTraffic Traffic { get; }

    /// <summary>Reads the registry once (the hub then watches it), so server ids resolve before anything was listed.</summary>
    public Task EnsureDiscoveredAsync(CancellationToken cancellationToken)
    {
        var discovered = Volatile.Read(ref _discovered);
        if (discovered is null || discovered.IsFaulted || discovered.IsCanceled)
        {
            discovered = _hub.DiscoverServersAsync(CancellationToken.None).AsTask();
            Volatile.Write(ref _discovered, discovered);
        }

        return discovered.WaitAsync(cancellationToken);
    }

    public ConsentStore Consent => _consent;

    /// <summary>Lists the tools the consent store allows (pinning first-seen ones under trust-on-first-use).</summary>
    public async ValueTask<IReadOnlyList<CatalogTool>> ListAllowedAsync(CancellationToken cancellationToken)
    {
        var snapshot = await GetSnapshotAsync(refresh: false, cancellationToken).ConfigureAwait(false);
        var allowed = new List<CatalogTool>(snapshot.Tools.Count);
        foreach (var tool in snapshot.Tools)
        {
            if (_consent.Evaluate(tool.ServerId, tool.Tool, tool.Hash).IsAllowed)
            {
                allowed.Add(tool);
            }
        }

        return allowed;
    }

    /// <summary>Finds a tool by aggregated name, or by server and own name; looks again once when it is not known.</summary>
    /// <exception cref="HubException">No such tool.</exception>
    public async ValueTask<CatalogTool> ResolveAsync(string? aggregatedName, string? serverId, string? toolName, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var snapshot = await GetSnapshotAsync(refresh: attempt > 0, cancellationToken).ConfigureAwait(false);
            if (aggregatedName is not null ? snapshot.ByName.TryGetValue(aggregatedName, out var tool) : snapshot.ByServerTool.TryGetValue((serverId!, toolName!), out tool))
            {
                return tool;
            }

            if (attempt == 0)
            {
                // Not known yet: the name's server is asked afresh (a listing takes a starting server's last known list
                // when its live one is not back at once, which would not have a tool it just added).
                foreach (var id in serverId is not null ? [serverId] : snapshot.ServerIds.Where(id => aggregatedName!.StartsWith(ToolNameMap.ServerPrefix(id) + ToolNameMap.Separator, StringComparison.Ordinal)))
                {
                    await RefreshServerAsync(id, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        if (aggregatedName is null)
        {
            // Let the hub say precisely what is wrong (unknown server, or the list of the server's tools).
            await _hub.ListToolsAsync(serverId, cancellationToken).ConfigureAwait(false);
            throw new HubException(HubErrorCode.UnknownTool, serverId, $"Server '{serverId}' has no tool '{toolName}'. Run 'mmcp tools --server {serverId}' to see its tools.") { Target = toolName };
        }

        var hint = aggregatedName.Contains(ToolNameMap.Separator, StringComparison.Ordinal)
            ? "List the tools (tools/list, GET /mcp/tools/list) to see the names."
            : $"Aggregated names look like '<server>{ToolNameMap.Separator}<tool>'; list the tools to see them.";
        throw new HubException(HubErrorCode.UnknownTool, null, $"No tool is named '{aggregatedName}'. {hint}") { Target = aggregatedName };
    }

    private async Task RefreshServerAsync(string serverId, CancellationToken cancellationToken)
    {
        try
        {
            await _hub.RefreshToolsAsync(serverId, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException)
        {
            // An unknown server: the resolution below says what is wrong.
        }
    }

    /// <summary>The consent verdict for a tool right now.</summary>
    public ToolConsent CheckConsent(CatalogTool tool) => _consent.Evaluate(tool.ServerId, tool.Tool, tool.Hash);

    /// <summary>Calls a tool with consent enforced, audited and measured. Hub failures propagate as <see cref="HubException"/>; a refusal as <see cref="McpProtocolException"/>.</summary>
    public ValueTask<CallToolResult> CallAsync(GatewayCaller caller, string surface, CatalogTool tool, IReadOnlyDictionary<string, object?>? arguments, IProgress<ProgressNotificationValue>? progress, CancellationToken cancellationToken) =>
        CallAsync(caller, surface, tool, arguments, progress, origin: null, cancellationToken);

    /// <summary>Calls a tool as <see cref="CallAsync(GatewayCaller, string, CatalogTool, IReadOnlyDictionary{string, object?}?, IProgress{ProgressNotificationValue}?, CancellationToken)"/> does, for a downstream request the server may ask something (<paramref name="origin"/>).</summary>
    public async ValueTask<CallToolResult> CallAsync(GatewayCaller caller, string surface, CatalogTool tool, IReadOnlyDictionary<string, object?>? arguments, IProgress<ProgressNotificationValue>? progress, CallOrigin? origin, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var at = _time.GetUtcNow();
        var consent = CheckConsent(tool);
        if (!consent.IsAllowed)
        {
            Finish("refused");
            GatewayTelemetry.RecordRefusal("consent");
            throw GatewayErrors.ConsentRefused(consent.Message!, tool.ServerId);
        }

        if (LatencyProbe.Enabled)
        {
            LatencyProbe.Mark(LatencyMark.ConsentChecked);
        }

        using var activity = GatewayTelemetry.StartToolCall(tool.ServerId, tool.Name, tool.Tool.Name, surface);
        try
        {
            CallToolResult result;
            using (await Traffic.EnterAsync(tool.ServerId, origin, cancellationToken).ConfigureAwait(false))
            {
                result = await _hub.CallToolAsync(tool.ServerId, tool.Tool.Name, arguments, progress, cancellationToken).ConfigureAwait(false);
            }

            Finish(result.IsError == true ? "tool-error" : "ok");
            GatewayTelemetry.Outcome(activity, result.IsError == true ? "tool-error" : "ok");
            return result;
        }
        catch (HubException ex)
        {
            Finish(ex.Code.ToString());
            GatewayTelemetry.Outcome(activity, ex.Code.ToString());
            throw;
        }
        catch (OperationCanceledException)
        {
            Finish("cancelled");
            GatewayTelemetry.Outcome(activity, "cancelled");
            throw;
        }

        void Finish(string outcome) => RecordCall(caller, surface, tool.ServerId, tool.Tool.Name, at, Stopwatch.GetElapsedTime(started), outcome, arguments);
    }

    /// <summary>Audits and measures one call (every call path ends here).</summary>
    public void RecordCall(GatewayCaller caller, string surface, string serverId, string toolName, DateTimeOffset at, TimeSpan elapsed, string outcome, object? arguments)
    {
        GatewayTelemetry.RecordCall(surface, serverId, toolName, outcome, elapsed);
        _audit.Record(
            new AuditEntry(at, caller.Name, surface, serverId, toolName, elapsed, outcome),
            _audit.TraceArguments && arguments is not null ? JsonSerializer.Serialize(arguments, McpJsonUtilities.DefaultOptions.GetTypeInfo(arguments.GetType())) : null);
    }

    public DateTimeOffset Now => _time.GetUtcNow();

    public void Dispose()
    {
        _hub.ListChanged -= OnHubChanged;
        _hub.ServersChanged -= OnHubChanged;
        _refresh.Dispose();
    }

    private async ValueTask<Snapshot> GetSnapshotAsync(bool refresh, CancellationToken cancellationToken)
    {
        if (!refresh && _snapshot is { } current)
        {
            return current;
        }

        var version = Interlocked.Read(ref _version);
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!refresh && _snapshot is { } again)
            {
                return again;
            }

            var listing = await _hub.ListToolsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var tools = listing.Tools.Select(t => new CatalogTool(t.Name, t.ServerId, t.Tool, HashOf(t.Tool))).ToList();
            var snapshot = new Snapshot(tools, [.. listing.Servers.Select(r => r.ServerId)]);

            // A change announced while listing may not be in this answer: keep it for one request only.
            if (Interlocked.Read(ref _version) == version)
            {
                _snapshot = snapshot;
            }

            return snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private string HashOf(Tool tool) => _hashes.GetValue(tool, static t => ConsentStore.ComputeHash(t));

    private void OnHubChanged(object? sender, EventArgs e)
    {
        Interlocked.Increment(ref _version);
        _snapshot = null;
        var kind = e is HubListChangedEventArgs l ? l.Kind : HubListKind.Tools;
        Changed?.Invoke(kind);
        if (e is not HubListChangedEventArgs)
        {
            Changed?.Invoke(HubListKind.Resources);
            Changed?.Invoke(HubListKind.Prompts);
        }
    }

    private sealed class Snapshot
    {
        public Snapshot(List<CatalogTool> tools, IReadOnlyList<string> serverIds)
        {
            Tools = tools;
            ServerIds = serverIds;
            ByName = tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
            ByServerTool = tools.ToDictionary(t => (t.ServerId, t.Tool.Name));
        }

        public List<CatalogTool> Tools { get; }

        /// <summary>Gets the ids of the servers listed, with tools or without.</summary>
        public IReadOnlyList<string> ServerIds { get; }

        public Dictionary<string, CatalogTool> ByName { get; }

        public Dictionary<(string, string), CatalogTool> ByServerTool { get; }
    }
}
