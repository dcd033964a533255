using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Shared.Telemetry;

namespace Mmcp.Cli.Serving;

/// <summary>The logging of the hosts <c>mmcp serve</c> and <c>mmcp stdio</c> run: standard error only (standard output may be the protocol channel), Warning and above (Debug with --verbose), and the MCP SDK's routine warnings at Debug (<see cref="SdkLoggerFactory"/>).</summary>
internal static class HostLogging
{
    public static void Configure(ILoggingBuilder logging, bool verbose)
    {
        logging.ClearProviders();
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Warning);
        logging.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(services => new SdkLoggerFactory(ActivatorUtilities.CreateInstance<LoggerFactory>(services), ownsInner: true)));
    }
}
