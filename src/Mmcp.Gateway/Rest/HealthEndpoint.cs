using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Mmcp.Client;
using Mmcp.Gateway.Search;

namespace Mmcp.Gateway.Rest;

/// <summary><c>/health</c>: the gateway is up, the state of every server it knows (connected, backing off, the last
/// failure), and how tools are offered (every tool, or search mode with its ranking: hybrid or BM25 alone).</summary>
internal sealed class HealthEndpoint(MmcpHub hub, IOptions<MmcpGatewayOptions> options, ToolSearchEngine search)
{
    public Task WriteAsync(HttpContext context) => RestEndpoints.RunAsync(context, async ct =>
    {
        var discovery = await hub.DiscoverServersAsync(ct).ConfigureAwait(false);
        var servers = new JsonArray();
        foreach (var s in discovery.Servers)
        {
            var status = s.Status;
            var node = new JsonObject
            {
                ["id"] = s.Id,
                ["transport"] = s.Manifest.Transport.Type,
                ["state"] = status.State.ToString(),
                ["consecutiveFailures"] = status.ConsecutiveFailures,
                ["reconnects"] = status.Reconnects,
                ["protocolVersion"] = status.ProtocolVersion,
            };
            if (status.RetryAt is { } retry)
            {
                node["retryAt"] = retry.ToString("O", CultureInfo.InvariantCulture);
            }

            if (status.LastFailure is { } failure)
            {
                node["lastFailure"] = new JsonObject
                {
                    ["code"] = failure.Code.ToString(),
                    ["message"] = failure.Message,
                    ["at"] = failure.At.ToString("O", CultureInfo.InvariantCulture),
                };
            }

            servers.Add((JsonNode)node);
        }

        return new JsonObject
        {
            ["status"] = "ok",
            ["servers"] = servers,
            ["invalidDefinitions"] = discovery.Diagnostics.Count(d => d.Severity == Core.Manifests.DiagnosticSeverity.Error),
            ["toolMode"] = options.Value.ToolMode == GatewayToolMode.Search ? "search" : "all",
            ["searchRanking"] = options.Value.ToolMode != GatewayToolMode.Search ? null : search.UsesEmbeddings ? "hybrid" : "bm25",
        };
    });
}
