using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Mmcp.Client;
using Mmcp.Client.Diagnostics;
using Mmcp.Core.Naming;
using Mmcp.Gateway.Errors;
using Mmcp.Gateway.Search;
using Mmcp.Gateway.Security;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.Aggregation;

/// <summary>
/// The aggregated <c>/mcp</c> endpoint's MCP handlers: every allowed tool as <c>&lt;serverId&gt;__&lt;tool&gt;</c> (or
/// the two meta-tools in search mode), resources under their own URIs (read through the server that lists them),
/// prompts as <c>&lt;serverId&gt;__&lt;prompt&gt;</c>; progress and cancellation forwarded; errors mapped in one place.
/// </summary>
internal sealed partial class AggregatedEndpoint
{
    public const string SearchToolName = "search_tools";
    public const string CallToolName = "call_tool";
    private const string ServerMetaKey = "io.mmcp/server";
    private readonly GatewayCatalog _catalog;
    private readonly MmcpGatewayOptions _options;
    private readonly ToolSearchEngine _search;

    public AggregatedEndpoint(GatewayCatalog catalog, IOptions<MmcpGatewayOptions> options, ToolSearchEngine search)
    {
        _catalog = catalog;
        _options = options.Value;
        _search = search;
    }

    /// <summary>The face this endpoint is, as the audit log names it: <c>mcp</c> over HTTP, <c>stdio</c> for <c>mmcp stdio</c>.</summary>
    public string Surface { get; set; } = "mcp";

    public void Configure(McpServerOptions options)
    {
        options.ServerInfo = new Implementation { Name = _options.ServerName, Title = "Mmcp gateway", Version = typeof(AggregatedEndpoint).Assembly.GetName().Version?.ToString(3) ?? "0.0.0" };
        options.ServerInstructions = _options.ToolMode == GatewayToolMode.Search
            ? "This gateway fronts every MCP server on this computer. Find tools with search_tools, then run one with call_tool."
            : "This gateway fronts every MCP server on this computer; tool names are <server>__<tool>.";
        options.Capabilities = new ServerCapabilities
        {
            Tools = new ToolsCapability { ListChanged = true },
            Resources = new ResourcesCapability { ListChanged = true, Subscribe = true },
            Prompts = new PromptsCapability { ListChanged = true },
            Completions = new CompletionsCapability(),
#pragma warning disable MCP9005 // logging is deprecated by 2026-07-28 but lives on 2025-era sessions
            Logging = new LoggingCapability(),
#pragma warning restore MCP9005
        };
        var h = options.Handlers;
        h.ListToolsHandler = ResultJson.Faithful<ListToolsRequestParams, ListToolsResult>(ListToolsAsync);
        h.CallToolHandler = ResultJson.Faithful<CallToolRequestParams, CallToolResult>(CallToolAsync);
        h.ListResourcesHandler = ResultJson.Faithful<ListResourcesRequestParams, ListResourcesResult>(ListResourcesAsync);
        h.ListResourceTemplatesHandler = ResultJson.Faithful<ListResourceTemplatesRequestParams, ListResourceTemplatesResult>(ListResourceTemplatesAsync);
        h.ReadResourceHandler = ResultJson.Faithful<ReadResourceRequestParams, ReadResourceResult>(ReadResourceAsync);
        h.ListPromptsHandler = ResultJson.Faithful<ListPromptsRequestParams, ListPromptsResult>(ListPromptsAsync);
        h.GetPromptHandler = ResultJson.Faithful<GetPromptRequestParams, GetPromptResult>(GetPromptAsync);
        h.CompleteHandler = ResultJson.Faithful<CompleteRequestParams, CompleteResult>(CompleteAsync);
        h.SubscribeToResourcesHandler = SubscribeAsync;
        h.UnsubscribeFromResourcesHandler = UnsubscribeAsync;

        // Filtered in the gateway (the SDK keeps the level as McpServer.LoggingLevel): the upstream connections are
        // shared by every session, so one session's level must not change what the others get.
        h.SetLoggingLevelHandler = static (_, _) => ValueTask.FromResult(new EmptyResult());
        ResultJson.WriteInResponses(options);
    }

    // ------------------------------------------------------------------ tools

    private async ValueTask<ListToolsResult> ListToolsAsync(RequestContext<ListToolsRequestParams> request, CancellationToken cancellationToken)
    {
        Require(request.User, GatewayScopes.ToolsList);
        if (_options.ToolMode == GatewayToolMode.Search)
        {
            return new ListToolsResult { Tools = MetaTools };
        }

        var tools = await _catalog.ListAllowedAsync(cancellationToken).ConfigureAwait(false);
        var (page, next) = Page(tools, request.Params?.Cursor);
        return CatalogTool.ListResult(page, next);
    }

    private async ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        var caller = Require(request.User, GatewayScopes.ToolsCall);
        var name = request.Params?.Name ?? throw new McpProtocolException("tools/call needs a tool name.", McpErrorCode.InvalidParams);
        var relay = ProgressRelay.For(request, cancellationToken);
        var result = await CallAsync(caller, name, request.Params.Arguments, relay, CallOrigin.For(request), cancellationToken).ConfigureAwait(false);
        if (relay is not null)
        {
            await relay.FlushAsync().ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>
    /// The endpoint's one <c>tools/call</c> path, shared by the SDK handler and the direct lane
    /// (<see cref="Fronts.JsonRpcFront"/>): the meta-tools in search mode, then resolve, consent, call and audit.
    /// </summary>
    /// <exception cref="McpProtocolException">The call failed; its code and data are what the client gets.</exception>
    internal ValueTask<CallToolResult> CallAsync(GatewayCaller caller, string name, IDictionary<string, JsonElement>? arguments, IProgress<ProgressNotificationValue>? progress, CancellationToken cancellationToken) =>
        CallAsync(caller, name, arguments, progress, origin: null, cancellationToken);

    /// <summary>The same, for a downstream request the upstream server may ask something (<paramref name="origin"/>: sampling, elicitation, roots).</summary>
    internal async ValueTask<CallToolResult> CallAsync(GatewayCaller caller, string name, IDictionary<string, JsonElement>? arguments, IProgress<ProgressNotificationValue>? progress, CallOrigin? origin, CancellationToken cancellationToken)
    {
        if (_options.ToolMode == GatewayToolMode.Search)
        {
            if (name == SearchToolName)
            {
                return await SearchAsync(arguments, cancellationToken).ConfigureAwait(false);
            }

            if (name != CallToolName)
            {
                throw new McpProtocolException($"In search mode this gateway offers only '{SearchToolName}' and '{CallToolName}'; call '{CallToolName}' with {{\"name\": \"{name}\", \"arguments\": {{…}}}}.", McpErrorCode.InvalidParams);
            }

            name = arguments?.TryGetValue("name", out var n) == true && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new McpProtocolException($"'{CallToolName}' needs 'name': the tool's name as '{SearchToolName}' returned it.", McpErrorCode.InvalidParams);
            // The tool's arguments as a direct tools/call takes them: an object, or none (null or left out).
            if (!arguments.TryGetValue("arguments", out var a) || a.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            {
                arguments = null;
            }
            else if (a.ValueKind == JsonValueKind.Object)
            {
                arguments = a.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
            }
            else
            {
                throw new McpProtocolException($"'{CallToolName}' takes 'arguments' as an object of the tool's arguments (as its inputSchema describes), not {a.ValueKind.ToString().ToLowerInvariant()}.", McpErrorCode.InvalidParams);
            }
        }

        try
        {
            var tool = await _catalog.ResolveAsync(name, null, null, cancellationToken).ConfigureAwait(false);
            if (LatencyProbe.Enabled)
            {
                LatencyProbe.Mark(LatencyMark.Resolved);
            }

            return await _catalog.CallAsync(caller, Surface, tool, ToObjects(arguments), progress, origin, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException ex)
        {
            throw GatewayErrors.ToMcp(ex);
        }
    }

    private async ValueTask<CallToolResult> SearchAsync(IDictionary<string, JsonElement>? arguments, CancellationToken cancellationToken)
    {
        var query = arguments?.TryGetValue("query", out var q) == true && q.ValueKind == JsonValueKind.String ? q.GetString()! : throw new McpProtocolException($"'{SearchToolName}' needs 'query': words describing what the tool should do.", McpErrorCode.InvalidParams);
        var limit = arguments.TryGetValue("limit", out var l) && l.ValueKind == JsonValueKind.Number && l.TryGetInt32(out var li) ? Math.Clamp(li, 1, 50) : 8;
        var tools = await _catalog.ListAllowedAsync(cancellationToken).ConfigureAwait(false);
        var hits = await _search.SearchAsync(tools, query, limit, cancellationToken).ConfigureAwait(false);
        var array = new JsonArray();
        foreach (var (tool, score) in hits)
        {
            array.Add((JsonNode)new JsonObject
            {
                ["name"] = tool.Name,
                ["description"] = tool.Tool.Description,
                ["inputSchema"] = JsonNode.Parse(tool.Tool.InputSchema.GetRawText()),
                ["score"] = Math.Round(score, 3),
            });
        }

        var structured = new JsonObject { ["tools"] = array };
        var text = hits.Count == 0
            ? $"No tool matches '{query}'. Try other words (names, what it does, its parameters)."
            : structured.ToJsonString();
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = text }],
            StructuredContent = JsonSerializer.SerializeToElement(structured, GatewayJsonContext.Default.JsonObject),
        };
    }

    internal static IList<Tool> MetaTools { get; } =
    [
        new Tool
        {
            Name = SearchToolName,
            Description = "Searches the tools of every MCP server on this computer by what they do; returns the best matches with their input schemas. Call a match with call_tool.",
            InputSchema = JsonDocument.Parse("""{"type":"object","properties":{"query":{"type":"string","description":"Words describing the task, e.g. 'read a text file' or 'weather forecast'."},"limit":{"type":"integer","minimum":1,"maximum":50,"description":"How many tools to return (default 8)."}},"required":["query"]}""").RootElement.Clone(),
            Annotations = new ToolAnnotations { ReadOnlyHint = true, OpenWorldHint = false },
        },
        new Tool
        {
            Name = CallToolName,
            Description = "Calls a tool found with search_tools, by its name, with arguments that follow its input schema.",
            InputSchema = JsonDocument.Parse("""{"type":"object","properties":{"name":{"type":"string","description":"The tool name search_tools returned."},"arguments":{"type":"object","description":"The tool's arguments."}},"required":["name"]}""").RootElement.Clone(),
        },
    ];

    // ------------------------------------------------------------------ resources

    private async ValueTask<ListResourcesResult> ListResourcesAsync(RequestContext<ListResourcesRequestParams> request, CancellationToken cancellationToken)
    {
        Require(request.User, GatewayScopes.ResourcesRead);
        var (resources, _, _) = await _catalog.ListResourcesAsync(cancellationToken).ConfigureAwait(false);
        var (page, next) = Page(resources, request.Params?.Cursor);
        var exposed = page.Select(r => (Exposed: WithServer(r.Resource, r.ServerId), Source: r.Resource)).ToList();
        return ListJson.Attach(new ListResourcesResult { Resources = [.. exposed.Select(e => e.Exposed)], NextCursor = next }, "resources", [.. exposed.Select(e => ListJson.Item(e.Exposed, e.Source, ResultJson.TryGet))]);
    }

    private async ValueTask<ListResourceTemplatesResult> ListResourceTemplatesAsync(RequestContext<ListResourceTemplatesRequestParams> request, CancellationToken cancellationToken)
    {
        Require(request.User, GatewayScopes.ResourcesRead);
        var (_, templates, _) = await _catalog.ListResourcesAsync(cancellationToken).ConfigureAwait(false);
        var (page, next) = Page(templates, request.Params?.Cursor);
        var exposed = page.Select(t => (Exposed: new ResourceTemplate { UriTemplate = t.Template.UriTemplate, Name = t.Template.Name, Title = t.Template.Title, Description = t.Template.Description, MimeType = t.Template.MimeType, Annotations = t.Template.Annotations, Icons = t.Template.Icons, Meta = ServerMeta(t.Template.Meta, t.ServerId) }, Source: t.Template)).ToList();
        return ListJson.Attach(new ListResourceTemplatesResult { ResourceTemplates = [.. exposed.Select(e => e.Exposed)], NextCursor = next }, "resourceTemplates", [.. exposed.Select(e => ListJson.Item(e.Exposed, e.Source, ResultJson.TryGet))]);
    }

    private async ValueTask<ReadResourceResult> ReadResourceAsync(RequestContext<ReadResourceRequestParams> request, CancellationToken cancellationToken)
    {
        Require(request.User, GatewayScopes.ResourcesRead);
        var uri = request.Params?.Uri ?? throw new McpProtocolException("resources/read needs a uri.", McpErrorCode.InvalidParams);
        try
        {
            var serverId = await ResolveResourceServerAsync(_catalog, uri, cancellationToken).ConfigureAwait(false)
                ?? throw new HubException(HubErrorCode.NotFound, null, $"No server lists a resource or template matching '{uri}'. List them with resources/list and resources/templates/list.") { Target = uri };
            return await _catalog.Hub.ReadResourceAsync(serverId, uri, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException ex)
        {
            throw GatewayErrors.ToMcp(ex);
        }
    }

    /// <summary>
    /// Finds the server of a resource URI among those whose resources are offered: the one that lists it, else the first
    /// whose template matches. A URI only other servers have is refused as the first one's (ConsentRequired).
    /// </summary>
    public static async ValueTask<string?> ResolveResourceServerAsync(GatewayCatalog catalog, string uri, CancellationToken cancellationToken)
    {
        var listing = await catalog.Hub.ListResourcesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var candidates = listing.Resources.Where(r => r.Resource.Uri == uri).Select(r => r.ServerId)
            .Concat(listing.Templates.Where(t => TemplateMatches(t.Template.UriTemplate, uri)).Select(t => t.ServerId));
        string? denied = null;
        foreach (var serverId in candidates)
        {
            if (catalog.ExposesServer(serverId))
            {
                return serverId;
            }

            denied ??= serverId;
        }

        if (denied is not null)
        {
            catalog.ThrowIfNotExposed(denied);
        }

        return null;
    }

    internal static bool TemplateMatches(string template, string uri)
    {
        var pattern = "^" + TemplateExpression().Replace(Regex.Escape(template).Replace(@"\{", "{", StringComparison.Ordinal), m => m.Value.StartsWith("{+", StringComparison.Ordinal) || m.Value.StartsWith("{/", StringComparison.Ordinal) ? ".*" : "[^/]+") + "$";
        return Regex.IsMatch(uri, pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex TemplateExpression();

    private async ValueTask<EmptyResult> SubscribeAsync(RequestContext<SubscribeRequestParams> request, CancellationToken cancellationToken)
    {
        Require(request.User, GatewayScopes.ResourcesRead);
        var uri = request.Params?.Uri ?? throw new McpProtocolException("resources/subscribe needs a uri.", McpErrorCode.InvalidParams);
        var serverId = await ResourceServerAsync(uri, cancellationToken).ConfigureAwait(false); // a server that offers its resources, or refused
        var session = SessionOf(request);
        if (_catalog.Traffic.Subscribe(serverId, uri, session))
        {
            try
            {
                _catalog.Traffic.SetUpstream(serverId, uri, await _catalog.Hub.SubscribeToResourceAsync(serverId, uri, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex)
            {
                _catalog.Traffic.Unsubscribe(serverId, uri, session);
                throw ex is HubException hub ? GatewayErrors.ToMcp(hub) : ex;
            }
        }

        return new EmptyResult();
    }

    private async ValueTask<EmptyResult> UnsubscribeAsync(RequestContext<UnsubscribeRequestParams> request, CancellationToken cancellationToken)
    {
        Require(request.User, GatewayScopes.ResourcesRead);
        var uri = request.Params?.Uri ?? throw new McpProtocolException("resources/unsubscribe needs a uri.", McpErrorCode.InvalidParams);

        // By the session's own subscriptions, not by who offers the URI now: ending a subscription is always allowed,
        // to a server the user denied since (its updates are hidden already) or one that is gone. A URI the session did
        // not subscribe to changes nothing.
        foreach (var serverId in _catalog.Traffic.Unsubscribe(uri, SessionOf(request)))
        {
            await _catalog.Traffic.EndUpstreamAsync(serverId, uri).ConfigureAwait(false);
        }

        return new EmptyResult();
    }

    /// <summary>Ends the upstream subscriptions nobody holds any more (the last subscriber's session ended).</summary>
    public async Task UnsubscribeOrphansAsync(IReadOnlyList<(string ServerId, string Uri)> orphans)
    {
        foreach (var (serverId, uri) in orphans)
        {
            await _catalog.Traffic.EndUpstreamAsync(serverId, uri).ConfigureAwait(false);
        }
    }

    /// <summary>The session a request belongs to (resource updates are pushed to it, not to the request's stream, which ends with the request).</summary>
    private McpServer SessionOf<TParams>(RequestContext<TParams> request)
        where TParams : RequestParams =>
        _catalog.Traffic.Session(request.Server.SessionId) ?? request.Server;

    private async ValueTask<string> ResourceServerAsync(string uri, CancellationToken cancellationToken)
    {
        try
        {
            return await ResolveResourceServerAsync(_catalog, uri, cancellationToken).ConfigureAwait(false)
                ?? throw new HubException(HubErrorCode.NotFound, null, $"No server lists a resource or template matching '{uri}'. List them with resources/list and resources/templates/list.") { Target = uri };
        }
        catch (HubException ex)
        {
            throw GatewayErrors.ToMcp(ex);
        }
    }

    private async ValueTask<JsonNode?> ForwardAsync(string serverId, string method, JsonObject parameters, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _catalog.Hub.SendRequestAsync(serverId, new JsonRpcRequest { Method = method, Params = parameters }, cancellationToken).ConfigureAwait(false);
            return response.Result;
        }
        catch (HubException ex)
        {
            throw GatewayErrors.ToMcp(ex);
        }
    }

    // ------------------------------------------------------------------ completion

    /// <summary>The scope a completion needs: completing a prompt's argument needs what getting the prompt does, a resource template's what reading the resource does.</summary>
    internal static string CompletionScope(CompleteRequestParams? parameters) =>
        parameters?.Ref is ResourceTemplateReference ? GatewayScopes.ResourcesRead : GatewayScopes.PromptsRead;

    /// <summary>Routes <c>completion/complete</c> by the prefixed prompt name or the resource template to its server, with the server's own name.</summary>
    private async ValueTask<CompleteResult> CompleteAsync(RequestContext<CompleteRequestParams> request, CancellationToken cancellationToken)
    {
        var p = request.Params ?? throw new McpProtocolException("completion/complete needs a ref and an argument.", McpErrorCode.InvalidParams);
        Require(request.User, CompletionScope(p));
        var parameters = JsonSerializer.SerializeToNode(p, McpJsonUtilities.GetTypeInfo<CompleteRequestParams>(McpJsonUtilities.DefaultOptions)) as JsonObject
            ?? throw new McpProtocolException("completion/complete needs a ref and an argument.", McpErrorCode.InvalidParams);
        string serverId;
        try
        {
            switch (p.Ref)
            {
                case PromptReference prompt:
                    (serverId, var own) = await ResolvePromptAsync(_catalog.Hub, prompt.Name, cancellationToken).ConfigureAwait(false);
                    parameters["ref"]!["name"] = own;
                    break;
                case ResourceTemplateReference template when template.Uri is { } uri:
                    var listing = await _catalog.Hub.ListResourcesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    serverId = listing.Templates.FirstOrDefault(t => t.Template.UriTemplate == uri)?.ServerId
                        ?? listing.Resources.FirstOrDefault(r => r.Resource.Uri == uri)?.ServerId
                        ?? throw new HubException(HubErrorCode.NotFound, null, $"No server lists a resource template '{uri}'. List them with resources/templates/list.") { Target = uri };
                    break;
                default:
                    throw new McpProtocolException("completion/complete needs a ref of type 'ref/prompt' (with a name) or 'ref/resource' (with a uri).", McpErrorCode.InvalidParams);
            }
        }
        catch (HubException ex)
        {
            throw GatewayErrors.ToMcp(ex);
        }

        _catalog.ThrowIfNotExposed(serverId);
        if (parameters["_meta"] is JsonObject meta)
        {
            // Per-request metadata of the 2026 era belongs to this hop, not to the server's session.
            meta.Remove("io.modelcontextprotocol/protocolVersion");
            meta.Remove("io.modelcontextprotocol/clientInfo");
            meta.Remove("io.modelcontextprotocol/clientCapabilities");
        }

        var result = await ForwardAsync(serverId, RequestMethods.CompletionComplete, parameters, cancellationToken).ConfigureAwait(false);
        return result is null
            ? throw new McpProtocolException($"Server '{serverId}' answered completion/complete with an empty result.", McpErrorCode.InternalError)
            : ResultJson.Read(result, McpJsonUtilities.GetTypeInfo<CompleteResult>(McpJsonUtilities.DefaultOptions));
    }

    // ------------------------------------------------------------------ prompts

    private async ValueTask<ListPromptsResult> ListPromptsAsync(RequestContext<ListPromptsRequestParams> request, CancellationToken cancellationToken)
    {
        Require(request.User, GatewayScopes.PromptsRead);
        var (prompts, _) = await _catalog.ListPromptsAsync(cancellationToken).ConfigureAwait(false);
        var (page, next) = Page(prompts, request.Params?.Cursor);
        var exposed = page.Select(p => (Exposed: new Prompt { Name = PromptName(p.ServerId, p.Prompt.Name), Title = p.Prompt.Title, Description = p.Prompt.Description, Arguments = p.Prompt.Arguments, Icons = p.Prompt.Icons, Meta = ServerMeta(p.Prompt.Meta, p.ServerId) }, Source: p.Prompt)).ToList();
        return ListJson.Attach(new ListPromptsResult { Prompts = [.. exposed.Select(e => e.Exposed)], NextCursor = next }, "prompts", [.. exposed.Select(e => ListJson.Item(e.Exposed, e.Source, ResultJson.TryGet))]);
    }

    private async ValueTask<GetPromptResult> GetPromptAsync(RequestContext<GetPromptRequestParams> request, CancellationToken cancellationToken)
    {
        Require(request.User, GatewayScopes.PromptsRead);
        var name = request.Params?.Name ?? throw new McpProtocolException("prompts/get needs a name.", McpErrorCode.InvalidParams);
        try
        {
            var (serverId, prompt) = await ResolvePromptAsync(_catalog.Hub, name, cancellationToken).ConfigureAwait(false);
            _catalog.ThrowIfNotExposed(serverId);
            return await _catalog.Hub.GetPromptAsync(serverId, prompt, ToObjects(request.Params.Arguments), cancellationToken).ConfigureAwait(false);
        }
        catch (HubException ex)
        {
            throw GatewayErrors.ToMcp(ex);
        }
    }

    public static string PromptName(string serverId, string prompt) => ToolNameMap.ServerPrefix(serverId) + ToolNameMap.Separator + prompt;

    public static async ValueTask<(string ServerId, string Prompt)> ResolvePromptAsync(MmcpHub hub, string exposedName, CancellationToken cancellationToken)
    {
        var listing = await hub.ListPromptsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var match = listing.Prompts.FirstOrDefault(p => PromptName(p.ServerId, p.Prompt.Name) == exposedName)
            ?? throw new HubException(HubErrorCode.NotFound, null, $"No prompt is named '{exposedName}'. Prompt names look like '<server>{ToolNameMap.Separator}<prompt>'; list them with prompts/list.") { Target = exposedName };
        return (match.ServerId, match.Prompt.Name);
    }

    // ------------------------------------------------------------------ helpers

    internal static GatewayCaller Require(System.Security.Claims.ClaimsPrincipal? user, string scope)
    {
        var caller = GatewayCaller.FromPrincipal(user);
        return caller.HasScope(scope) ? caller : throw new McpProtocolException($"The token lacks the '{scope}' scope.", McpErrorCode.InvalidRequest);
    }

    internal static Dictionary<string, object?>? ToObjects(IDictionary<string, JsonElement>? arguments) =>
        arguments?.ToDictionary(kv => kv.Key, kv => (object?)kv.Value, StringComparer.Ordinal);

    private (IReadOnlyList<T> Page, string? Next) Page<T>(IReadOnlyList<T> items, string? cursor)
    {
        var start = 0;
        if (cursor is not null && (!int.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out start) || start > items.Count))
        {
            throw new McpProtocolException($"Invalid cursor '{cursor}': pass the nextCursor of the previous page.", McpErrorCode.InvalidParams);
        }

        var size = _options.ListPageSize;
        var page = items.Skip(start).Take(size).ToList();
        var next = start + size < items.Count ? (start + size).ToString(CultureInfo.InvariantCulture) : null;
        return (page, next);
    }

    private static Resource WithServer(Resource r, string serverId) => new()
    {
        Uri = r.Uri,
        Name = r.Name,
        Title = r.Title,
        Description = r.Description,
        MimeType = r.MimeType,
        Size = r.Size,
        Annotations = r.Annotations,
        Icons = r.Icons,
        Meta = ServerMeta(r.Meta, serverId),
    };

    private static JsonObject ServerMeta(JsonObject? meta, string serverId)
    {
        var copy = meta?.DeepClone() as JsonObject ?? [];
        copy[ServerMetaKey] = serverId;
        return copy;
    }
}
