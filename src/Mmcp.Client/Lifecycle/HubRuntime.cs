using Microsoft.Extensions.Logging;
using Mmcp.Client.Catalog;
using Mmcp.Client.Connectors;
using Mmcp.Client.Traffic;
using Mmcp.Core.Registry;
using Shared.Telemetry;

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
        SdkLoggerFactory = new SdkLoggerFactory(loggerFactory);
        Logger = loggerFactory.CreateLogger("Mmcp.Client.MmcpHub");
        Time = time;
        Cache = cache;
        Traffic = new TrafficTap(time, Logger);
    }

    /// <summary>Gets the tap every connection reports its JSON-RPC messages to.</summary>
    public TrafficTap Traffic { get; }

    public MmcpHubOptions Options { get; }

    public IReadOnlyList<IServerConnector> Connectors { get; }

    public MmcpEnvironment Environment { get; }

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The logger factory the SDK's clients log through (<see cref="Shared.Telemetry.SdkLoggerFactory"/>).</summary>
    public ILoggerFactory SdkLoggerFactory { get; }

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    public ToolCacheStore Cache { get; }

    /// <summary>Gets or sets how shared connections answer server-to-client requests, or <see langword="null"/>.</summary>
    public HubServerRequests? ServerRequests { get; set; }

    /// <summary>Set by the hub: called when a server's list changes.</summary>
    public Action<string, HubListKind>? ListChanged { get; set; }
}
