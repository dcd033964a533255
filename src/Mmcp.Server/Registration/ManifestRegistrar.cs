using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Mmcp.Server.Sockets;
using ModelContextProtocol.Server;

namespace Mmcp.Server.Registration;

/// <summary>
/// Writes the app's manifest into the registry when the host starts, with a snapshot of its tools, resources and
/// prompts, so hubs discover and list it without connecting and start it on demand.
/// </summary>
public sealed partial class ManifestRegistrar : IHostedService
{
    private readonly MmcpServerOptions _options;
    private readonly IOptions<McpServerOptions> _mcpOptions;
    private readonly ILogger _logger;

    /// <summary>Initializes a new instance of the <see cref="ManifestRegistrar"/> class.</summary>
    /// <param name="options">The app's server options.</param>
    /// <param name="mcpOptions">The SDK options holding the registered tools, resources and prompts.</param>
    /// <param name="logger">The logger.</param>
    public ManifestRegistrar(IOptions<MmcpServerOptions> options, IOptions<McpServerOptions> mcpOptions, ILogger<ManifestRegistrar> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _mcpOptions = mcpOptions;
        _logger = logger;
    }

    /// <summary>Gets the manifest file path in the configured registry directory.</summary>
    public string ManifestPath => RegistryPaths.GetManifestPath(RegistryDirectory(_options), _options.Id);

    /// <summary>Builds the manifest this app announces.</summary>
    /// <returns>The manifest.</returns>
    public ServerManifest BuildManifest()
    {
        var mcp = _mcpOptions.Value;
        CapabilitySnapshot? snapshot = null;
        if (_options.IncludeCapabilitySnapshot)
        {
            var resources = mcp.ResourceCollection ?? [];
            snapshot = new CapabilitySnapshot
            {
                Tools = [.. (mcp.ToolCollection ?? []).Select(t => t.ProtocolTool).OrderBy(t => t.Name, StringComparer.Ordinal)],
                Resources = [.. resources.Where(r => !r.IsTemplated).Select(r => r.ProtocolResource!).OrderBy(r => r.Uri, StringComparer.Ordinal)],
                ResourceTemplates = [.. resources.Where(r => r.IsTemplated).Select(r => r.ProtocolResourceTemplate).OrderBy(r => r.UriTemplate, StringComparer.Ordinal)],
                Prompts = [.. (mcp.PromptCollection ?? []).Select(p => p.ProtocolPrompt).OrderBy(p => p.Name, StringComparer.Ordinal)],
            };
        }

        return new ServerManifest
        {
            Id = _options.Id,
            Name = _options.Name,
            Description = _options.Description,
            Version = _options.Version,
            Categories = [.. _options.Categories],
            Permissions = [.. _options.Permissions],
            Transport = new SocketTransport { Path = SocketPaths.Resolve(_options) },
            Launch = _options.WriteLaunch ? _options.Launch ?? DefaultLaunch(_options) : null,
            Capabilities = snapshot,
        };
    }

    /// <summary>Writes the manifest unless an identical one is already in place.</summary>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="true"/> when the file was written.</returns>
    public async Task<bool> RegisterAsync(CancellationToken cancellationToken = default)
    {
        var bytes = ManifestWriter.ToUtf8Bytes(BuildManifest());
        var path = ManifestPath;
        if (File.Exists(path) && (await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false)).AsSpan().SequenceEqual(bytes))
        {
            Log.Unchanged(_logger, _options.Id, path);
            return false; // unchanged: do not wake every hub's file watcher
        }

        await ManifestWriter.WriteFileAsync(BuildManifest(), path, cancellationToken).ConfigureAwait(false);
        Log.Registered(_logger, _options.Id, path);
        return true;
    }

    /// <summary>Removes the manifest (the app is being uninstalled).</summary>
    /// <returns><see langword="true"/> when a manifest was removed.</returns>
    public bool Unregister() => Unregister(_options.Id, RegistryDirectory(_options));

    /// <summary>Removes a server's manifest from a registry directory.</summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="registryDirectory">The registry directory.</param>
    /// <returns><see langword="true"/> when a manifest was removed.</returns>
    public static bool Unregister(string serverId, string registryDirectory)
    {
        var path = RegistryPaths.GetManifestPath(registryDirectory, serverId);
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        return true;
    }

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.RegisterManifest)
        {
            await RegisterAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask; // the manifest is an install-time index: it stays

    internal static string RegistryDirectory(MmcpServerOptions options) => options.RegistryDirectory ?? RegistryPaths.GetUserRegistryDirectory(options.Environment);

    private static LaunchSpec? DefaultLaunch(MmcpServerOptions options)
    {
        var processPath = Environment.ProcessPath;
        if (string.IsNullOrEmpty(processPath))
        {
            return null;
        }

        // `dotnet app.dll` (framework-dependent without an app host) versus an app host or a native executable.
        var isDotnetHost = Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        var entry = Environment.GetCommandLineArgs().FirstOrDefault();
        if (isDotnetHost && entry is not null && entry.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            return new LaunchSpec { Command = processPath, Args = [Path.GetFullPath(entry), .. options.LaunchArguments] };
        }

        return new LaunchSpec { Command = processPath, Args = [.. options.LaunchArguments] };
    }

    private static partial class Log
    {
        [LoggerMessage(2101, LogLevel.Information, "Registered MCP server {ServerId}: manifest {ManifestPath}")]
        public static partial void Registered(ILogger logger, string serverId, string manifestPath);

        [LoggerMessage(2102, LogLevel.Information, "MCP server {ServerId} is already registered: manifest {ManifestPath}")]
        public static partial void Unchanged(ILogger logger, string serverId, string manifestPath);
    }
}
