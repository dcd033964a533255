using Microsoft.Extensions.DependencyInjection;
using Mmcp.Core.Manifests;
using Mmcp.Server.Registration;

#pragma warning disable IDE0130 // Host extensions live in the hosting namespace by convention.
namespace Microsoft.Extensions.Hosting;
#pragma warning restore IDE0130

/// <summary>Runs an Mmcp server app, with the install-time commands an installer or package script calls.</summary>
public static class MmcpServerHostExtensions
{
    /// <summary>The argument that writes the manifest into the registry and exits (for install scripts).</summary>
    public const string RegisterArgument = "--mmcp-register";

    /// <summary>The argument that removes the manifest from the registry and exits (for uninstall scripts).</summary>
    public const string UnregisterArgument = "--mmcp-unregister";

    /// <summary>The argument that prints the manifest to standard output and exits.</summary>
    public const string PrintManifestArgument = "--mmcp-manifest";

    /// <summary>
    /// Handles <see cref="RegisterArgument"/>, <see cref="UnregisterArgument"/> and <see cref="PrintManifestArgument"/>
    /// when present in <paramref name="args"/>; otherwise runs the host until it is stopped.
    /// </summary>
    /// <param name="host">The built host.</param>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="cancellationToken">Stops the host.</param>
    /// <returns>The process exit code: 0 on success.</returns>
    public static async Task<int> RunMmcpAsync(this IHost host, string[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(args);
        var registrar = host.Services.GetRequiredService<ManifestRegistrar>();
        if (args.Contains(PrintManifestArgument, StringComparer.Ordinal))
        {
            await Console.Out.WriteAsync(ManifestWriter.ToJson(registrar.BuildManifest())).ConfigureAwait(false);
            return 0;
        }

        if (args.Contains(RegisterArgument, StringComparer.Ordinal))
        {
            await registrar.RegisterAsync(cancellationToken).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"registered {registrar.ManifestPath}").ConfigureAwait(false);
            return 0;
        }

        if (args.Contains(UnregisterArgument, StringComparer.Ordinal))
        {
            var removed = registrar.Unregister();
            await Console.Error.WriteLineAsync(removed ? $"removed {registrar.ManifestPath}" : $"not registered ({registrar.ManifestPath} does not exist)").ConfigureAwait(false);
            return 0;
        }

        await host.RunAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }
}
