using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Mmcp.Client.Consent;
using Mmcp.Gateway;
using Mmcp.Gateway.Aggregation;
using Mmcp.Gateway.Audit;
using Mmcp.Gateway.Fronts;
using Mmcp.Gateway.Inspect;
using Mmcp.Gateway.Rest;
using Mmcp.Gateway.Search;
using Mmcp.Gateway.Security;
using Mmcp.Gateway.Sessions;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

#pragma warning disable IDE0130 // DI extensions live in the DI namespace by convention.
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers the Mmcp gateway.</summary>
public static class MmcpGatewayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gateway's services: the hub (unless already added with <c>AddMmcpHub</c>), the MCP Streamable HTTP
    /// transport serving both protocol eras (2026-07-28 stateless requests and 2025 sessions), the consent store, the
    /// token store and the audit log. Map the endpoints with <c>app.MapMmcpGateway()</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts the options (validated at startup).</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddMmcpGateway(this IServiceCollection services, Action<MmcpGatewayOptions>? configure = null)
    {
        AddMmcpGatewayCore(services, configure);
        services.TryAddSingleton<McpSessionHooks>();
        services.TryAddSingleton<JsonRpcFront>();
        services.TryAddSingleton<RequestGuard>();
        services.TryAddSingleton<RestEndpoints>();
        services.TryAddSingleton<OpenApiDocument>();
        services.TryAddSingleton<HealthEndpoint>();
        services.TryAddSingleton<InspectEndpoint>();
        services.TryAddSingleton<RecentSpans>();
        services.TryAddSingleton<GatewayMarker>();
        services.TryAddSingleton<OAuthResourceServer>();
        services.AddHostedService<OAuthIssuerCheck>();

        services.AddMcpServer().WithHttpTransport();
        services.AddOptions<HttpServerTransportOptions>().Configure<IServiceProvider>((transport, sp) =>
        {
            var hooks = sp.GetRequiredService<McpSessionHooks>();
            var o = sp.GetRequiredService<IOptions<MmcpGatewayOptions>>().Value;
            transport.SessionMode = HttpServerSessionMode.StatefulForInitializeClients;
            transport.ConfigureSessionOptions = hooks.ConfigureAsync;
            transport.RunSessionHandler = hooks.RunAsync;
            transport.IdleTimeout = o.SessionIdleTimeout;
            transport.TimeProvider = sp.GetRequiredService<TimeProvider>();
        });
        return services;
    }

    /// <summary>
    /// Adds the aggregated gateway as one MCP server over this process's standard input and output, as <c>mmcp stdio</c>
    /// runs it: the gateway's counterpart of the MCP SDK's <c>WithStdioServerTransport()</c>. The gateway answers the
    /// JSON-RPC errors the spec names (-32700, -32602, batches) in front of the SDK; the application ends when the
    /// client closes standard input, once every request it sent is answered. Standard output carries only the
    /// protocol: log to standard error.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts the options (validated at startup).</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddMmcpGatewayStdio(this IServiceCollection services, Action<MmcpGatewayOptions>? configure = null) =>
        AddMmcpGatewayStdio(services, Console.OpenStandardInput(), Console.OpenStandardOutput(), configure);

    /// <summary>Adds the aggregated gateway as one MCP server over the given streams (newline-delimited JSON-RPC, as over stdio).</summary>
    /// <param name="services">The services.</param>
    /// <param name="input">What the client sends (standard input).</param>
    /// <param name="output">Where the answers go (standard output).</param>
    /// <param name="configure">Adjusts the options (validated at startup).</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddMmcpGatewayStdio(this IServiceCollection services, Stream input, Stream output, Action<MmcpGatewayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        AddMmcpGatewayCore(services, configure);
        var front = new StdioFront(input, output);
        services.AddSingleton(front);
        services.AddHostedService<StdioFrontService>();
        services.AddMcpServer().WithStreamServerTransport(front.Input, front.Output);
        services.AddOptions<McpServerOptions>().Configure<AggregatedEndpoint>((options, endpoint) =>
        {
            endpoint.Surface = "stdio";
            endpoint.Configure(options);
        });
        return services;
    }

    /// <summary>The services every face of the gateway shares (the HTTP endpoints and <c>mmcp stdio</c>): hub, options, consent, tokens, audit, catalog.</summary>
    internal static IServiceCollection AddMmcpGatewayCore(this IServiceCollection services, Action<MmcpGatewayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddMmcpHub();
        var options = services.AddOptions<MmcpGatewayOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MmcpGatewayOptions>, GatewayOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<MmcpGatewayOptions>>().Value;
            return new ConsentStore(o.ConsentStorePath ?? ConsentStore.DefaultPath(), o.ConsentPolicy, sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<MmcpGatewayOptions>>().Value;
            return new TokenStore(o.TokenStorePath ?? TokenStore.DefaultPath(), sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton<GatewayRuntime>();
        services.TryAddSingleton<SessionDirectory>();
        services.TryAddSingleton<AuditLog>();
        services.TryAddSingleton<UpstreamTraffic>();
        services.TryAddSingleton<GatewayCatalog>();
        services.TryAddSingleton<ToolSearchEngine>();
        services.TryAddSingleton<AggregatedEndpoint>();
        return services;
    }

    private sealed class GatewayOptionsValidator : IValidateOptions<MmcpGatewayOptions>
    {
        public ValidateOptionsResult Validate(string? name, MmcpGatewayOptions options) =>
            options.Validate() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems.Select(p => $"Mmcp gateway options: {p}")) : ValidateOptionsResult.Success;
    }
}
