using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Client;
using Mmcp.Client.Connectors;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

#pragma warning disable IDE0130 // DI extensions live in the DI namespace by convention.
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers the Mmcp hub.</summary>
public static class MmcpHubServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="MmcpHub"/> (and its <see cref="ServerRegistry"/>) configured by
    /// <paramref name="configure"/>. The options are validated at startup (and when the hub is first resolved).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>A builder for adding servers and connectors.</returns>
    public static IMmcpHubBuilder AddMmcpHub(this IServiceCollection services, Action<MmcpHubOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<MmcpHubOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MmcpHubOptions>, MmcpHubOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<MmcpHubOptions>>().Value;
            return ServerRegistry.Create(o.Registry, sp.GetRequiredService<TimeProvider>(), sp.GetService<ILogger<ServerRegistry>>());
        });
        services.TryAddSingleton(sp => new MmcpHub(
            sp.GetRequiredService<ServerRegistry>(),
            sp.GetRequiredService<IOptions<MmcpHubOptions>>().Value,
            sp.GetServices<IServerConnector>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        return new MmcpHubBuilder(services);
    }

    /// <summary>Registers a server in code, ahead of every discovered one.</summary>
    /// <param name="builder">The hub builder.</param>
    /// <param name="manifest">The server's definition.</param>
    /// <returns>The builder.</returns>
    public static IMmcpHubBuilder AddServer(this IMmcpHubBuilder builder, ServerManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(manifest);
        builder.Services.Configure<MmcpHubOptions>(o => o.Servers.Add(manifest));
        return builder;
    }

    /// <summary>Adds a connector for another kind of transport (for example a platform IPC); it is asked before the built-in ones.</summary>
    /// <typeparam name="TConnector">The connector type.</typeparam>
    /// <param name="builder">The hub builder.</param>
    /// <returns>The builder.</returns>
    public static IMmcpHubBuilder AddConnector<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] TConnector>(this IMmcpHubBuilder builder)
        where TConnector : class, IServerConnector
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServerConnector, TConnector>());
        return builder;
    }

    private sealed class MmcpHubBuilder(IServiceCollection services) : IMmcpHubBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    private sealed class MmcpHubOptionsValidator : IValidateOptions<MmcpHubOptions>
    {
        public ValidateOptionsResult Validate(string? name, MmcpHubOptions options) =>
            options.Validate() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems.Select(p => $"Mmcp hub options: {p}")) : ValidateOptionsResult.Success;
    }
}

/// <summary>Configures the hub added by <see cref="MmcpHubServiceCollectionExtensions.AddMmcpHub"/>.</summary>
public interface IMmcpHubBuilder
{
    /// <summary>Gets the services.</summary>
    IServiceCollection Services { get; }
}
