using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Mmcp.Client;
using Mmcp.Client.Consent;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Atlas.Desktop.Admin;

/// <summary>
/// The admin UI's "MCP servers" view: every server the desktop's hub discovered (where it came from, how it is reached,
/// whether it is connected or failing, its tools) and the user's consent decisions, read from and written to the same
/// <see cref="ConsentStore"/> file as <c>mmcp consent</c>, so a decision made in one place shows in the other. Looking
/// never records anything (consent is checked, not evaluated); only the explicit decisions below change the file.
/// </summary>
internal static class AdminServers
{
    public static void MapAdminServers(this RouteGroupBuilder api)
    {
        api.MapGet("/servers", ListAsync);
        api.MapGet("/servers/{id}/tools", async (string id, MmcpHub hub, ConsentStore consent, CancellationToken cancellationToken) =>
            Results.Json(await ToolsAsync(hub, consent, id, cancellationToken).ConfigureAwait(false), AdminJsonContext.Default.ServerToolsView));
        api.MapPost("/servers/{id}/consent", DecideAsync);

        // OAuth sign-in to a remote server (what `mmcp auth login|logout` do): the desktop runs it, the page opens the URL.
        api.MapPost("/servers/{id}/sign-in", async (string id, MmcpHub hub, AdminSignIns signIns, CancellationToken cancellationToken) =>
            Results.Json(await signIns.StartAsync(await FindServerAsync(hub, id, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false),
                AdminJsonContext.Default.SignInAttemptView));
        api.MapGet("/servers/{id}/sign-in", (string id, AdminSignIns signIns) => signIns.Find(id) is { } attempt
            ? Results.Json(attempt, AdminJsonContext.Default.SignInAttemptView)
            : throw new AtlasException(ErrorCodes.NotFound, $"No sign-in to '{id}' was started here."));
        api.MapPost("/servers/{id}/sign-in/cancel", async (string id, AdminSignIns signIns, CancellationToken cancellationToken) =>
            Results.Json(await signIns.CancelAsync(id, cancellationToken).ConfigureAwait(false), AdminJsonContext.Default.SignInAttemptView));
        api.MapPost("/servers/{id}/sign-out", async (string id, MmcpHub hub, AdminSignIns signIns, CancellationToken cancellationToken) =>
            Results.Json(await signIns.SignOutAsync(await FindServerAsync(hub, id, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false),
                AdminJsonContext.Default.SignOutView));
    }

    private static async Task<DiscoveredServer> FindServerAsync(MmcpHub hub, string id, CancellationToken cancellationToken) =>
        hub.Registry.Current.Find(id)
        ?? (await hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false)).Servers.FirstOrDefault(s => s.Id == id)?.Server
        ?? throw new AtlasException(ErrorCodes.NotFound, $"No MCP server has the id '{id}'. Reload the list: it may have been removed.");

    private static async Task<IResult> ListAsync(MmcpHub hub, ConsentStore consent, AdminSignIns signIns, CancellationToken cancellationToken)
    {
        var discovery = await hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false);
        var listing = await hub.ListToolsAsync(null, cancellationToken).ConfigureAwait(false);
        var servers = discovery.Servers.Select(info =>
        {
            var tools = listing.Tools.Where(t => t.ServerId == info.Id).Select(t => consent.Check(t.ServerId, t.Tool).Status).ToList();
            var listed = listing.Servers.FirstOrDefault(s => s.ServerId == info.Id);
            var status = StatusOf(hub, info.Id) ?? info.Status;
            var signInRequired = (status.LastFailure ?? listed?.Failure)?.Code == HubErrorCode.SignInRequired && status.State != ServerState.Connected;
            return new ServerView(
                info.Id, info.Manifest.Name, info.Manifest.Description, info.Manifest.Version, Transport(info.Manifest.Transport),
                Provenance(info.Server.Provenance), [.. info.Server.Shadowed.Select(Provenance)],
                signInRequired ? "sign-in-required" : State(status), status.ConsecutiveFailures, Failure(status.LastFailure), status.RetryAt,
                Decision(consent.GetServer(info.Id)?.Decision), tools.Count,
                new ConsentCounts(
                    tools.Count(s => s == ToolConsentStatus.Allowed), tools.Count(s => s == ToolConsentStatus.Denied),
                    tools.Count(s => s == ToolConsentStatus.Changed), tools.Count(s => s == ToolConsentStatus.Pending)),
                Source(listed?.Source), Failure(listed?.Failure), signIns.Describe(info.Server),
                info.Server.ShadowedBy, info.Server.Aliases.Count > 0 ? info.Server.Aliases : null);
        }).ToList();
        var view = new ServersView(consent.Path, Policy(consent.Policy), servers,
            [.. discovery.Diagnostics.Select(d => new DiagnosticView(d.File, d.Field, d.Message, d.Severity.ToString().ToLowerInvariant()))]);
        return Results.Json(view, AdminJsonContext.Default.ServersView);
    }

    private static async Task<ServerToolsView> ToolsAsync(MmcpHub hub, ConsentStore consent, string serverId, CancellationToken cancellationToken)
    {
        var listing = await ListServerToolsAsync(hub, serverId, cancellationToken).ConfigureAwait(false);
        var decisions = consent.List().Tools.Where(t => t.ServerId == serverId).ToDictionary(t => t.ToolName, StringComparer.Ordinal);
        var tools = listing.Tools.Select(t =>
        {
            var verdict = consent.Check(serverId, t.Tool);
            var entry = decisions.GetValueOrDefault(t.ToolName);
            var a = t.Tool.Annotations;
            return new ToolView(
                t.ToolName, t.Name, t.Tool.Title, t.Tool.Description,
                a is null ? null : new AnnotationsView(a.Title, a.ReadOnlyHint, a.DestructiveHint, a.IdempotentHint, a.OpenWorldHint),
                ConsentStore.ComputeHash(t.Tool),
                new ToolConsentView(Status(verdict.Status), verdict.Message, Decision(entry?.Decision), entry?.PinnedHash, entry?.DecidedAt, entry?.DecidedBy),
                t.Tool.InputSchema);
        }).ToList();
        var result = listing.Servers.Single();
        return new ServerToolsView(serverId, Decision(consent.GetServer(serverId)?.Decision), Source(result.Source) ?? "none", Failure(result.Failure), tools);
    }

    /// <summary>Allows, denies or forgets (<c>reset</c>) a server or one of its tools. Allowing a tool pins its current
    /// definition, which is also how a changed tool is approved again; exactly what <c>mmcp consent allow</c> does.</summary>
    private static async Task<IResult> DecideAsync(string id, HttpContext context, MmcpHub hub, ConsentStore consent)
    {
        var cancellationToken = context.RequestAborted;
        var change = await JsonBodies.ReadAsync(context.Request, AdminJsonContext.Default.ConsentChange, cancellationToken).ConfigureAwait(false);
        var decision = change?.Decision switch
        {
            "allow" => ConsentDecision.Allow,
            "deny" => ConsentDecision.Deny,
            "reset" => (ConsentDecision?)null,
            _ => throw new AtlasException(ErrorCodes.BadRequest,
                "Send {\"decision\":\"allow\"|\"deny\"|\"reset\"} for the server, plus \"tool\":\"<its own name>\" for one tool."),
        };
        if (hub.Registry.Current.Find(id) is null
            && (await hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false)).Servers.All(s => s.Id != id))
        {
            throw new AtlasException(ErrorCodes.NotFound, $"No MCP server has the id '{id}'. Reload the list: it may have been removed.");
        }

        if (change!.Tool is not { Length: > 0 } toolName)
        {
            if (decision is { } d)
            {
                await consent.SetServerAsync(id, d, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await consent.ResetAsync(id, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        else if (decision is null)
        {
            await consent.ResetAsync(id, toolName, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var listing = await ListServerToolsAsync(hub, id, cancellationToken).ConfigureAwait(false);
            var definition = listing.Tools.FirstOrDefault(t => t.ToolName == toolName)?.Tool;
            if (definition is null && decision == ConsentDecision.Allow)
            {
                // Pinning nothing would approve whatever definition shows up next: refuse rather than approve blind.
                throw new AtlasException(ErrorCodes.NotFound, listing.Failures.Count > 0
                    ? $"Server '{id}' cannot list its tools now ({listing.Failures[0].Failure!.Message}), so tool '{toolName}' cannot be reviewed and approved; try again when it is reachable."
                    : $"Server '{id}' has no tool '{toolName}'. Its tools: {string.Join(", ", listing.Tools.Select(t => t.ToolName))}.");
            }

            await consent.SetToolAsync(id, toolName, decision.Value, definition, cancellationToken).ConfigureAwait(false);
        }

        return Results.Json(await ToolsAsync(hub, consent, id, cancellationToken).ConfigureAwait(false), AdminJsonContext.Default.ServerToolsView);
    }

    private static async Task<ToolListing> ListServerToolsAsync(MmcpHub hub, string serverId, CancellationToken cancellationToken)
    {
        try
        {
            return await hub.ListToolsAsync(serverId, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException e) when (e.Code == HubErrorCode.UnknownServer)
        {
            throw new AtlasException(ErrorCodes.NotFound, $"No MCP server has the id '{serverId}'. Reload the list: it may have been removed.");
        }
    }

    private static ServerStatus? StatusOf(MmcpHub hub, string serverId)
    {
        try
        {
            return hub.GetServerStatus(serverId);
        }
        catch (HubException)
        {
            return null; // removed between discovery and now
        }
    }

    /// <summary>connected, connecting, idle (not running: the hub starts or connects it on first use, as it does for an
    /// app announced with an on-demand launch, which listing never starts; nothing is wrong), or failed (the last attempt
    /// failed; see the error).</summary>
    private static string State(ServerStatus status) => status.State switch
    {
        ServerState.Connected => "connected",
        ServerState.Connecting => "connecting",
        ServerState.BackingOff => "failed",
        _ => status.ConsecutiveFailures > 0 ? "failed" : "idle",
    };

    private static FailureView? Failure(ServerFailure? failure) =>
        failure is null ? null : new FailureView(failure.Code.ToString(), failure.Message, failure.At);

    private static string? Source(ListSource? source) => source?.ToString().ToLowerInvariant();

    private static string? Decision(ConsentDecision? decision) => decision switch
    {
        ConsentDecision.Allow => "allow",
        ConsentDecision.Deny => "deny",
        _ => null,
    };

    private static string Status(ToolConsentStatus status) => status switch
    {
        ToolConsentStatus.Allowed => "allowed",
        ToolConsentStatus.Denied => "denied",
        ToolConsentStatus.Changed => "changed",
        _ => "pending",
    };

    private static string Policy(ConsentPolicy policy) => policy == ConsentPolicy.AskFirst ? "ask-first" : "trust-on-first-use";

    private static ProvenanceView Provenance(ServerProvenance p) => new(p.Kind switch
    {
        ServerSourceKind.ManifestDirectory => "manifest",
        ServerSourceKind.ClaudeDesktop => "claude-desktop",
        ServerSourceKind.VsCode => "vscode",
        ServerSourceKind.Cursor => "cursor",
        ServerSourceKind.McpRegistry => "mcp-registry",
        _ => "code",
    }, p.ToString(), p.Location, p.Key);

    /// <summary>How the server is reached, without secrets: no environment values, headers, URL user info or query.</summary>
    private static TransportView Transport(ServerTransport transport) => transport switch
    {
        StdioTransport s => new TransportView(s.Type, string.Join(' ', new[] { s.Command }.Concat(s.Args).Select(Quote))),
        HttpTransport h => new TransportView(h.Type, $"{h.Url.Scheme}://{h.Url.Authority}{h.Url.AbsolutePath}"),
        SocketTransport k => new TransportView(k.Type, k.Path),
        _ => new TransportView(transport.Type, transport.Type),
    };

    private static string Quote(string arg) => arg.Length > 0 && !arg.Any(char.IsWhiteSpace) && !arg.Contains('"', StringComparison.Ordinal)
        ? arg
        : JsonSerializer.Serialize(arg, AdminJsonContext.Default.String);
}
