using System.Text.Json;
using System.Text.Json.Nodes;
using Mmcp.Client;
using Mmcp.Gateway.Aggregation;
using Mmcp.Gateway.Errors;
using Mmcp.Gateway.Security;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.PassThrough;

/// <summary>
/// <c>/servers/{id}/mcp</c> over the hub's shared connection: for stateless 2026-07-28 requests (no session state to
/// keep apart), and for 2025-era sessions when dedicated upstream sessions are off or at their limit. Requests keep
/// the server's own names; tools honour consent; results and errors are the server's own.
/// </summary>
internal sealed class SharedPassThrough(GatewayCatalog catalog)
{
    public async Task ConfigureAsync(McpServerOptions options, string serverId, CancellationToken cancellationToken)
    {
        var hub = catalog.Hub;
        var status = hub.GetServerStatus(serverId);
        if (status.Capabilities is null)
        {
            // Connect (or learn why not) so the capabilities and server info mirror the server's.
            try
            {
                await hub.ListToolsAsync(serverId, cancellationToken).ConfigureAwait(false);
            }
            catch (HubException ex)
            {
                throw GatewayErrors.ToMcp(ex);
            }

            status = hub.GetServerStatus(serverId);
        }

        var caps = status.Capabilities ?? new ServerCapabilities { Tools = new ToolsCapability() };
        options.ServerInfo = status.ServerInfo ?? new Implementation { Name = serverId, Version = "0" };
        options.Capabilities = new ServerCapabilities
        {
            Tools = caps.Tools is null ? null : new ToolsCapability(),
            Resources = caps.Resources is null ? null : new ResourcesCapability(),
            Prompts = caps.Prompts is null ? null : new PromptsCapability(),
            Completions = caps.Completions,
        };
        var h = options.Handlers;
        if (caps.Tools is not null)
        {
            h.ListToolsHandler = ResultJson.Faithful<ListToolsRequestParams, ListToolsResult>(async (r, ct) =>
            {
                AggregatedEndpoint.Require(r.User, GatewayScopes.ToolsList);
                var listing = await Hub(() => hub.ListToolsAsync(serverId, ct)).ConfigureAwait(false);
                if (listing.Failures.Count > 0 && listing.Failures[0].Failure is { } failure && listing.Tools.Count == 0)
                {
                    throw GatewayErrors.ToMcp(new HubException(failure.Code, serverId, failure.Message));
                }

                var tools = listing.Tools.Where(t => catalog.Consent.Evaluate(serverId, t.Tool).IsAllowed).Select(t => t.Tool).ToList();
                return ListJson.Attach(new ListToolsResult { Tools = tools }, "tools", [.. tools.Select(t => ListJson.Item(t, t, ResultJson.TryGet))]);
            });
            h.CallToolHandler = ResultJson.Faithful<CallToolRequestParams, CallToolResult>(async (r, ct) =>
            {
                var caller = AggregatedEndpoint.Require(r.User, GatewayScopes.ToolsCall);
                var relay = ProgressRelay.For(r, ct);
                var result = await CallAsync(caller, serverId, r.Params!, relay, ct).ConfigureAwait(false);
                if (relay is not null)
                {
                    await relay.FlushAsync().ConfigureAwait(false);
                }

                return result;
            });
        }

        if (caps.Resources is not null)
        {
            h.ListResourcesHandler = ResultJson.Faithful<ListResourcesRequestParams, ListResourcesResult>((r, ct) => Raw<ListResourcesRequestParams, ListResourcesResult>(r, RequestMethods.ResourcesList, GatewayScopes.ResourcesRead, ct));
            h.ListResourceTemplatesHandler = ResultJson.Faithful<ListResourceTemplatesRequestParams, ListResourceTemplatesResult>((r, ct) => Raw<ListResourceTemplatesRequestParams, ListResourceTemplatesResult>(r, RequestMethods.ResourcesTemplatesList, GatewayScopes.ResourcesRead, ct));
            h.ReadResourceHandler = ResultJson.Faithful<ReadResourceRequestParams, ReadResourceResult>((r, ct) => Raw<ReadResourceRequestParams, ReadResourceResult>(r, RequestMethods.ResourcesRead, GatewayScopes.ResourcesRead, ct));
        }

        if (caps.Prompts is not null)
        {
            h.ListPromptsHandler = ResultJson.Faithful<ListPromptsRequestParams, ListPromptsResult>((r, ct) => Raw<ListPromptsRequestParams, ListPromptsResult>(r, RequestMethods.PromptsList, GatewayScopes.PromptsRead, ct));
            h.GetPromptHandler = ResultJson.Faithful<GetPromptRequestParams, GetPromptResult>((r, ct) => Raw<GetPromptRequestParams, GetPromptResult>(r, RequestMethods.PromptsGet, GatewayScopes.PromptsRead, ct));
        }

        if (caps.Completions is not null)
        {
            h.CompleteHandler = ResultJson.Faithful<CompleteRequestParams, CompleteResult>((r, ct) => Raw<CompleteRequestParams, CompleteResult>(r, RequestMethods.CompletionComplete, AggregatedEndpoint.CompletionScope(r.Params), ct));
        }

        ResultJson.WriteInResponses(options);

        async ValueTask<TResult> Raw<TParams, TResult>(RequestContext<TParams> request, string method, string? scope, CancellationToken ct)
            where TParams : RequestParams
            where TResult : Result
        {
            if (scope is not null)
            {
                AggregatedEndpoint.Require(request.User, scope);
            }

            // Resources, prompts and completions only of a server that offers them (ask-first: once allowed as a whole).
            catalog.ThrowIfNotExposed(serverId);
            var parameters = request.Params is null ? null : JsonSerializer.SerializeToNode(request.Params, McpJsonUtilities.GetTypeInfo<TParams>(McpJsonUtilities.DefaultOptions));
            if (parameters is JsonObject o && o["_meta"] is JsonObject meta)
            {
                // Per-request metadata of the 2026 era belongs to this hop, not to the server's session.
                meta.Remove("io.modelcontextprotocol/protocolVersion");
                meta.Remove("io.modelcontextprotocol/clientInfo");
                meta.Remove("io.modelcontextprotocol/clientCapabilities");
            }

            var response = await Hub(() => hub.SendRequestAsync(serverId, new JsonRpcRequest { Method = method, Params = parameters }, ct)).ConfigureAwait(false);
            return response.Result is null
                ? throw new McpProtocolException($"Server '{serverId}' answered {method} with an empty result.", McpErrorCode.InternalError)
                : ResultJson.Read(response.Result, McpJsonUtilities.GetTypeInfo<TResult>(McpJsonUtilities.DefaultOptions));
        }
    }

    /// <summary>Calls one of the server's tools over the shared connection, with consent enforced and the call audited (the SDK handler and the direct lane both come here).</summary>
    public async ValueTask<CallToolResult> CallAsync(GatewayCaller caller, string serverId, CallToolRequestParams parameters, IProgress<ProgressNotificationValue>? progress, CancellationToken cancellationToken)
    {
        var tool = await Hub(() => catalog.ResolveAsync(null, serverId, parameters.Name, cancellationToken)).ConfigureAwait(false);
        return await Hub(() => catalog.CallAsync(caller, "servers", tool, AggregatedEndpoint.ToObjects(parameters.Arguments), progress, cancellationToken)).ConfigureAwait(false);
    }

    private static async ValueTask<T> Hub<T>(Func<ValueTask<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (HubException ex)
        {
            throw GatewayErrors.ToMcp(ex);
        }
    }
}
