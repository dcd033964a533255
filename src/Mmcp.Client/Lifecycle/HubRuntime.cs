using Microsoft.Extensions.Logging;
using Mmcp.Client.Catalog;
using Mmcp.Client.Connectors;
using Mmcp.Core.Registry;

namespace Mmcp.Client.Lifecycle;

/// <summary>What every server session shares: options, connectors, clock, logging, the tool cache and the hub's change notifications.</summary>
internal sealed class HubRuntime
{
    public HubRuntime(MmcpHubOptions options, IReadOnlyList<IServerConnector> connectors, MmcpEnvironment environment, ILoggerFactory loggerFactory, TimeProvider time, ToolCacheStore cache)
    {
        Options = options;
        Connectors = connectors;
        Environment = environment;
        LoggerFactory = loggerFactory;
        Logger = loggerFactory.CreateLogger("Mmcp.Client.MmcpHub");
        Time = time;
        Cache = cache;
    }

    public MmcpHubOptions Options { get; }

    public IReadOnlyList<IServerConnector> Connectors { get; }

    public MmcpEnvironment Environment { get; }

    public ILoggerFactory LoggerFactory { get; }

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    public ToolCacheStore Cache { get; }

    /// <summary>Set by the hub: called when a server's list changes.</summary>
    public Action<string, HubListKind>? ListChanged { get; set; }
}
