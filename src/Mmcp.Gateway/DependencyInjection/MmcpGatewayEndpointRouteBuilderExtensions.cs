using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Mmcp.Gateway;
using Mmcp.Gateway.Inspect;
using Mmcp.Gateway.Rest;
using Mmcp.Gateway.Security;

#pragma warning disable IDE0130 // Endpoint extensions live in the ASP.NET Core builder namespace by convention.
namespace Microsoft.AspNetCore.Builder;
#pragma warning restore IDE0130

/// <summary>Maps the Mmcp gateway's endpoints.</summary>
public static class MmcpGatewayEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the gateway: <c>/mcp</c> (aggregated MCP), <c>/servers/{id}/mcp</c> (one server passed through),
    /// the REST endpoints under <c>/mcp/…</c>, <c>/tools/{name}</c> with <c>/openapi.json</c>, <c>/health</c>,
    /// <c>/inspect/{id}</c>, <c>/inspect-spans</c>, and with an OAuth issuer the protected resource metadata (<c>/.well-known/oauth-protected-resource</c>). Every endpoint checks <c>Host</c>, <c>Origin</c>, tokens and scopes first.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <returns>A builder for conventions on every gateway endpoint.</returns>
    /// <exception cref="InvalidOperationException"><c>AddMmcpGateway()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapMmcpGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetService<GatewayMarker>() is null)
        {
            throw new InvalidOperationException("MapMmcpGateway() needs the gateway's services: call builder.Services.AddMmcpGateway() before building the app.");
        }

        var sp = endpoints.ServiceProvider;
        var guard = sp.GetRequiredService<RequestGuard>();
        var rest = sp.GetRequiredService<RestEndpoints>();
        var openApi = sp.GetRequiredService<OpenApiDocument>();
        var health = sp.GetRequiredService<HealthEndpoint>();
        var inspect = sp.GetRequiredService<InspectEndpoint>();
        var spans = sp.GetRequiredService<RecentSpans>();
        var group = endpoints.MapGroup(string.Empty);

        Guard(group.MapMcp("/mcp"), RouteKind.AggregatedMcp, null);
        Guard(group.MapMcp("/servers/{id}/mcp"), RouteKind.PassThroughMcp, null);
        string[] getOrPost = [HttpMethods.Get, HttpMethods.Post];
        Guard(group.MapMethods("/mcp/tools/list", getOrPost, rest.ListToolsAsync), RouteKind.Rest, GatewayScopes.ToolsList);
        Guard(group.MapPost("/mcp/tools/call", rest.CallToolAsync), RouteKind.Rest, GatewayScopes.ToolsCall);
        Guard(group.MapMethods("/mcp/resources/list", getOrPost, rest.ListResourcesAsync), RouteKind.Rest, GatewayScopes.ResourcesRead);
        Guard(group.MapPost("/mcp/resources/read", rest.ReadResourceAsync), RouteKind.Rest, GatewayScopes.ResourcesRead);
        Guard(group.MapMethods("/mcp/prompts/list", getOrPost, rest.ListPromptsAsync), RouteKind.Rest, GatewayScopes.PromptsRead);
        Guard(group.MapPost("/mcp/prompts/get", rest.GetPromptAsync), RouteKind.Rest, GatewayScopes.PromptsRead);
        Guard(group.MapGet("/openapi.json", openApi.WriteAsync), RouteKind.Rest, GatewayScopes.ToolsList);
        Guard(group.MapPost("/tools/{name}", rest.CallOperationAsync), RouteKind.Rest, GatewayScopes.ToolsCall);
        Guard(group.MapGet("/health", health.WriteAsync), RouteKind.Health, null);
        Guard(group.MapGet("/inspect/{id}", inspect.StreamAsync), RouteKind.Inspect, GatewayScopes.Inspect);
        var oauth = sp.GetRequiredService<OAuthResourceServer>();
        if (oauth.Enabled)
        {
            // RFC 9728: the metadata of the resource, at the well-known path alone and followed by the resource's path.
            Guard(group.MapGet(OAuthResourceServer.MetadataPath, oauth.WriteMetadataAsync), RouteKind.Metadata, null);
            Guard(group.MapGet(OAuthResourceServer.MetadataPath + "/{**path}", oauth.WriteMetadataAsync), RouteKind.Metadata, null);
        }

        Guard(group.MapGet("/inspect-spans", spans.StreamAsync), RouteKind.Inspect, GatewayScopes.Inspect);
        string[] options = [HttpMethods.Options];
        foreach (var pattern in (string[])["/mcp", "/mcp/{**rest}", "/servers/{id}/mcp", "/tools/{name}", "/openapi.json", "/health"])
        {
            group.MapMethods(pattern, options, guard.PreflightAsync); // CORS preflight: only for AllowedOrigins
        }

        return group;

        void Guard(IEndpointConventionBuilder builder, RouteKind kind, string? scope) =>
            builder.Add(endpoint =>
            {
                var inner = endpoint.RequestDelegate ?? throw new InvalidOperationException($"Endpoint '{endpoint.DisplayName}' has no request delegate to guard.");
                endpoint.RequestDelegate = guard.Wrap(inner, kind, scope);
            });
    }
}
