using System.Text.Json.Nodes;
using Mmcp.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.Fronts;

/// <summary>
/// Hands results on as their server wrote them (<see cref="ResultJson"/>): a field no MCP revision defines, and an
/// instant in the server's own notation, reach the client, where the SDK's writing of its typed result would drop the
/// one and rewrite the other. A handler wrapped with <see cref="Faithful{TParams, TResult}"/> leaves the server's JSON
/// with the request; the outgoing filter (<see cref="AddTo"/>) sends that JSON as the response's result.
/// </summary>
internal static class ServerResults
{
    private const string Key = "mmcp.result-json";

    private static readonly McpMessageFilter Filter = next => (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcResponse response && response.Context?.Items is { } items && items.Remove(Key, out var value)
            && value is ReadOnlyMemory<byte> json && JsonNode.Parse(json.Span) is JsonObject own)
        {
            // The _meta the SDK wrote is the server's own, kept whole by the typed result (a JsonObject), with what the SDK
            // sets there itself (this gateway's identity, on revisions with per-request metadata): it wins.
            if (response.Result is JsonObject { } written && written["_meta"] is JsonObject meta)
            {
                own["_meta"] = meta.DeepClone();
            }

            response.Result = own;
        }

        return next(context, cancellationToken);
    };

    /// <summary>Adds the filter that sends a result's own JSON (once per options).</summary>
    public static void AddTo(McpServerOptions options)
    {
        var filters = options.Filters.Message.OutgoingFilters;
        if (!filters.Contains(Filter))
        {
            filters.Add(Filter);
        }
    }

    /// <summary>Leaves the server's own JSON of the handler's result, when it has one, for the outgoing filter.</summary>
    public static McpRequestHandler<TParams, TResult> Faithful<TParams, TResult>(McpRequestHandler<TParams, TResult> handler)
        where TResult : Result =>
        async (request, cancellationToken) =>
        {
            var result = await handler(request, cancellationToken).ConfigureAwait(false);
            if (ResultJson.TryGet(result, out var json))
            {
                request.Items[Key] = json;
            }

            return result;
        };
}
