using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Mmcp.Server;
using Mmcp.Server.Hosting;
using Mmcp.Server.Registration;
using ModelContextProtocol.Protocol;

#pragma warning disable IDE0130 // DI extensions live in the DI namespace by convention.
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers an app's MCP server on a local Unix socket with an install-time manifest.</summary>
public static class MmcpServerServiceCollectionExtensions
{
    /// <summary>
    /// Serves this app's MCP server on a local socket and announces it in the registry: the identity, tools, resources
    /// and prompts generated at compile time for the <c>partial</c> class <typeparamref name="TServer"/> (marked
    /// <see cref="McpServerAttribute"/>). No reflection: works under NativeAOT and trimming.
    /// </summary>
    /// <typeparam name="TServer">The <c>partial</c> class marked with <see cref="McpServerAttribute"/>; the Mmcp source generator implements <see cref="IMmcpServer"/> on it.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>The SDK's server builder, to add more primitives or filters.</returns>
    /// <remarks>
    /// Instance methods run on an instance from dependency injection when <typeparamref name="TServer"/> is registered
    /// there, otherwise on a new instance per request whose constructor arguments come from the request's services
    /// (disposed after the call). Calling this twice for the same class registers its primitives once.
    /// </remarks>
    public static IMcpServerBuilder AddMmcpServer<TServer>(this IServiceCollection services, Action<MmcpServerOptions>? configure = null)
        where TServer : IMmcpServer
    {
        ArgumentNullException.ThrowIfNull(services);
        var definition = TServer.Definition;
        var builder = services.AddMmcpServer(options =>
        {
            options.ApplyDefaults(definition);
            configure?.Invoke(options);
        });

        if (services.Any(d => d.ServiceType == typeof(Registered<TServer>)))
        {
            return builder;
        }

        services.AddSingleton<Registered<TServer>>();
        return builder
            .WithTools(definition.CreateTools())
            .WithResources(definition.CreateResources())
            .WithPrompts(definition.CreatePrompts());
    }

    /// <summary>
    /// Serves this app's MCP server on a local socket and announces it in the registry, with the identity set in
    /// <paramref name="configure"/>. Add primitives with the SDK's builder methods; this is the way to host classes that
    /// are not generated (for example with the reflection-based <c>WithTools&lt;T&gt;()</c>, which NativeAOT does not support fully).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the identity and other options.</param>
    /// <returns>The SDK's server builder.</returns>
    public static IMcpServerBuilder AddMmcpServer(this IServiceCollection services, Action<MmcpServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<MmcpServerOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MmcpServerOptions>, MmcpServerOptionsValidator>());
        services.TryAddSingleton<InFlightRequests>();
        services.TryAddSingleton<UnixSocketListener>();
        services.TryAddSingleton<ManifestRegistrar>();

        // The socket listens before the manifest that points at it is written.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, UnixSocketListener>(sp => sp.GetRequiredService<UnixSocketListener>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ManifestRegistrar>(sp => sp.GetRequiredService<ManifestRegistrar>()));

        var builder = services.AddMcpServer();
        services.AddOptions<ModelContextProtocol.Server.McpServerOptions>().Configure<IOptions<MmcpServerOptions>, InFlightRequests>((mcp, mmcp, inFlight) =>
        {
            var o = mmcp.Value;
            mcp.ServerInfo ??= new Implementation { Name = o.Id, Title = o.Name, Version = o.Version };
            mcp.Filters.Message.IncomingFilters.Add(inFlight.Filter);
        });
        return builder;
    }

    /// <summary>Marks a generated server whose primitives are registered.</summary>
    private sealed class Registered<TServer>;
}
