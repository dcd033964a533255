using Atlas.Desktop.Hosting;
using Atlas.Media;
using Atlas.Media.Mcp;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Mmcp.Server.Registration;

namespace Atlas.Desktop.Media;

/// <summary>
/// <c>atlas media-mcp</c>: the media pipeline as an Mmcp server, so every LLM app on this computer can OCR, analyse,
/// transcribe and describe the user's files through its hub. It is its own process, discovered from its manifest and
/// started on demand by any hub; it shares the desktop's result cache in the data directory.
/// </summary>
/// <remarks>
/// Callers are limited to this OS user by the socket's peer-credential check; within that, the tools read only files
/// under the allowed roots: <c>--allow DIR</c>, else <c>Atlas:Media:AllowedRoots</c>, else only the Atlas folder
/// <c>&lt;data dir&gt;/media/shared</c> (created private). Any program of this user can reach the socket, so the default
/// is a folder the user puts files in on purpose, not the whole home directory.
/// </remarks>
internal static class MediaMcpServerHost
{
    public const string ServerId = "io.mmcp.atlas.media";

    /// <summary>The folder shared with MCP clients when no roots are configured: <c>&lt;data dir&gt;/media/shared</c>.</summary>
    public static string DefaultSharedRoot(string dataDirectory) => Path.Combine(dataDirectory, "media", "shared");

    public static IHost Build(string dataDirectory, IReadOnlyList<string> allowedRoots, string[] args)
    {
        var data = new DataDirectory(dataDirectory);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = false });
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        var configuredRoots = builder.Configuration.GetSection(AtlasOptions.Section + ":Media:AllowedRoots").Get<string[]>() ?? [];
        IReadOnlyList<string> roots = allowedRoots.Count > 0 ? allowedRoots
            : configuredRoots.Length > 0 ? configuredRoots
            : [DefaultSharedRoot(data.Root)];
        if (allowedRoots.Count == 0 && configuredRoots.Length == 0)
        {
            DataDirectory.CreatePrivate(roots[0]);
        }

        builder.Services.AddAtlasMedia(media =>
        {
            builder.Configuration.GetSection(AtlasOptions.Section + ":Media").Bind(media);
            media.CacheDirectory ??= data.MediaCacheDirectory;
            media.WorkDirectory ??= Path.Combine(data.Root, "media", "mcp-work");
            media.AllowedRoots = [.. roots.Select(Path.GetFullPath)];
        });
        // The describe tool uses the same LLM endpoint as the desktop (Atlas:Llm from appsettings.json, Atlas__Llm__…
        // environment variables, OPENROUTER_API_KEY), with Atlas:Media:DescribeModel or the chat model.
        var llm = new AtlasOptions();
        AtlasConfiguration.Bind(builder.Configuration, llm);
        if (llm.Llm.IsConfigured)
        {
            builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(llm));
            builder.Services.TryAddSingleton(new AtlasTime(TimeProvider.System));
            builder.Services.AddSingleton<Chat.Llm.LlmClientFactory>();
            builder.Services.AddSingleton<Chat.Llm.ModelCatalog>();
            builder.Services.AddSingleton<Microsoft.Extensions.AI.IChatClient, VisionChatClient>();
        }

        // The identity and the tools are generated from [McpServer] on MediaMcpTools (Mmcp.Server.Generators, no
        // reflection); the tools run on the MediaMcpTools that AddAtlasMedia registered.
        builder.Services.AddMmcpServer<MediaMcpTools>(options =>
        {
            options.Version = typeof(MediaMcpServerHost).Assembly.GetName().Version?.ToString(3) ?? "0.1.0";
            options.LaunchArguments.Add("media-mcp");
            options.LaunchArguments.Add("--data-dir");
            options.LaunchArguments.Add(data.Root);
            // Only explicit roots are baked into the launch: the default and configured ones are read at each start.
            foreach (var root in allowedRoots)
            {
                options.LaunchArguments.Add("--allow");
                options.LaunchArguments.Add(Path.GetFullPath(root));
            }
        });
        _ = args;
        return builder.Build();
    }

    /// <summary>Runs the server (or handles <c>--mmcp-register</c>, <c>--mmcp-unregister</c>, <c>--mmcp-manifest</c>).</summary>
    public static async Task<int> RunAsync(string dataDirectory, IReadOnlyList<string> allowedRoots, string[] args, CancellationToken cancellationToken)
    {
        using var host = Build(dataDirectory, allowedRoots, args);
        return await host.RunMmcpAsync(args, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the server's manifest (with its tool snapshot and on-demand launch) so hubs discover it before it ever runs.</summary>
    public static async Task RegisterAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        using var host = Build(dataDirectory, [], []);
        await host.Services.GetRequiredService<ManifestRegistrar>().RegisterAsync(cancellationToken).ConfigureAwait(false);
        await host.Services.GetRequiredService<MediaPipeline>().DisposeAsync().ConfigureAwait(false);
    }
}
