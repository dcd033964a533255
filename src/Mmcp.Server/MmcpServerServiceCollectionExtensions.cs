using System.Diagnostics.CodeAnalysis;
using System.Reflection;
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
    /// Serves this app's MCP server on a local socket and announces it in the registry. The identity comes from the
    /// <see cref="McpServerAttribute"/> on <typeparamref name="TServer"/>. Chain the SDK's <c>WithTools&lt;T&gt;()</c>,
    /// <c>WithResources&lt;T&gt;()</c> and <c>WithPrompts&lt;T&gt;()</c> on the result.
    /// </summary>
    /// <typeparam name="TServer">The class marked with <see cref="McpServerAttribute"/>.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>The SDK's server builder.</returns>
    /// <exception cref="InvalidOperationException"><typeparamref name="TServer"/> has no <see cref="McpServerAttribute"/>.</exception>
    public static IMcpServerBuilder AddMmcpServer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.None)] TServer>(this IServiceCollection services, Action<MmcpServerOptions>? configure = null)
    {
        var attribute = typeof(TServer).GetCustomAttribute<McpServerAttribute>()
            ?? throw new InvalidOperationException($"{typeof(TServer).FullName} has no [McpServer(id, name, description, version)] attribute. Add it, or call AddMmcpServer(options => ...) and set Id, Name, Description and Version.");
        return services.AddMmcpServer(options =>
        {
            options.ApplyDefaults(attribute);
            configure?.Invoke(options);
        });
    }

    /// <summary>Serves this app's MCP server on a local socket and announces it in the registry, with the identity set in <paramref name="configure"/>.</summary>
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
}
