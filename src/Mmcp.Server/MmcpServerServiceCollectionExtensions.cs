using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Mmcp.Server;
using Mmcp.Server.Registration;
using Mmcp.Server.Runtime;
using Mmcp.Server.Sockets;
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
    /// (disposed after the call). Calling this twice for the same class registers its primitives once; calling it for
    /// a second class throws, as an app is one server (one socket, one manifest).
    /// </remarks>
    /// <exception cref="InvalidOperationException">The app already hosts another <see cref="IMmcpServer"/> class.</exception>
    public static IMcpServerBuilder AddMmcpServer<TServer>(this IServiceCollection services, Action<MmcpServerOptions>? configure = null)
        where TServer : IMmcpServer
    {
        ArgumentNullException.ThrowIfNull(services);
        var definition = TServer.Definition;
        if (services.FirstOrDefault(d => d.ServiceType == typeof(HostedServerClass))?.ImplementationInstance is HostedServerClass hosted && hosted.Type != typeof(TServer))
        {
            // One process listens on one socket as one server: the second class's tools would be served under the first
            // id, and the manifest the build wrote for it would point at a socket nobody listens on.
            throw new InvalidOperationException(
                $"This app already hosts the Mmcp server '{hosted.Id}' ({hosted.Type.FullName}), so it cannot also host '{definition.Id}' ({typeof(TServer).FullName}): " +
                $"an app is one server with one socket and one manifest. Put the tools, resources and prompts into one [McpServer] class, or host '{definition.Id}' in an app of its own.");
        }

        services.TryAddSingleton(new HostedServerClass(typeof(TServer), definition.Id));
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
    /// Serves this app's MCP server on a local socket with the identity read by reflection from the
    /// <see cref="McpServerAttribute"/> on <typeparamref name="TServer"/>, for a class the generator does not extend.
    /// Chain the SDK's reflection-based <c>WithTools&lt;T&gt;()</c>, <c>WithResources&lt;T&gt;()</c> and
    /// <c>WithPrompts&lt;T&gt;()</c> on the result.
    /// </summary>
    /// <typeparam name="TServer">The class marked with <see cref="McpServerAttribute"/>.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>The SDK's server builder.</returns>
    /// <exception cref="InvalidOperationException"><typeparamref name="TServer"/> has no <see cref="McpServerAttribute"/>.</exception>
    /// <remarks>
    /// An explicit opt-in: prefer making the class <c>partial</c> and calling <see cref="AddMmcpServer{TServer}(IServiceCollection, Action{MmcpServerOptions}?)"/>,
    /// which needs no reflection at all. Where the generator is referenced, a non-partial <c>[McpServer]</c> class is error MMCP1002.
    /// </remarks>
    public static IMcpServerBuilder AddMmcpServerFromAttribute<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.None)] TServer>(this IServiceCollection services, Action<MmcpServerOptions>? configure = null)
    {
        var attribute = typeof(TServer).GetCustomAttribute<McpServerAttribute>()
            ?? throw new InvalidOperationException($"{typeof(TServer).FullName} has no [McpServer(id, name, description, version)] attribute. Add it, or call AddMmcpServer(options => ...) and set Id, Name, Description and Version.");
        return services.AddMmcpServer(options =>
        {
            options.Id = options.Id.Length == 0 ? attribute.Id : options.Id;
            options.Name = options.Name.Length == 0 ? attribute.Name : options.Name;
            options.Description = options.Description.Length == 0 ? attribute.Description : options.Description;
            options.Version = options.Version.Length == 0 ? attribute.Version : options.Version;
            foreach (var category in attribute.Categories.Where(c => !options.Categories.Contains(c)))
            {
                options.Categories.Add(category);
            }

            foreach (var permission in attribute.Permissions.Where(p => !options.Permissions.Contains(p)))
            {
                options.Permissions.Add(permission);
            }

            configure?.Invoke(options);
        });
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
            mcp.Filters.Message.IncomingFilters.Add(InvalidParamsFilter.Filter);
        });
        return builder;
    }

    /// <summary>Marks a generated server whose primitives are registered.</summary>
    private sealed class Registered<TServer>;

    private sealed record HostedServerClass(Type Type, string Id);
}
