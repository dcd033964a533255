// Compiled into a web project (whose implicit usings hold some of these) and a console one (whose do not).
#pragma warning disable IDE0005
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
#pragma warning restore IDE0005

namespace Shared.Telemetry;

/// <summary>
/// The one place that turns OpenTelemetry on for <c>mmcp serve</c>, <c>mmcp stdio</c> and <c>atlas serve</c>
/// (docs/observability.md). Off by default: without <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or a signal's own endpoint)
/// and without a <c>/metrics</c> flag nothing is registered, no provider is built and every
/// <see cref="System.Diagnostics.ActivitySource"/> stays unlistened (zero cost).
/// </summary>
internal static class OpenTelemetrySetup
{
    /// <summary>The standard variable that turns the OTLP exporters on (with <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>:
    /// <c>grpc</c>, the default, or <c>http/protobuf</c>).</summary>
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The opt-in for message content (prompts, answers, tool arguments and results) in span attributes; off
    /// unless exactly <c>true</c>.</summary>
    public const string CaptureContentVariable = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

    /// <summary>The Prometheus scrape path.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Every activity source the project and the MCP SDK emit spans on.</summary>
    public static readonly string[] ActivitySources =
    [
        "Mmcp.Client", "Mmcp.Gateway", "Atlas.Desktop", "Atlas.Media", "Experimental.ModelContextProtocol",
    ];

    /// <summary>Every meter the project and the MCP SDK record on.</summary>
    public static readonly string[] Meters =
    [
        "Mmcp.Client", "Mmcp.Gateway", "Mmcp.Server", "Atlas.Desktop", "Atlas.Media", "Experimental.ModelContextProtocol",
    ];

    private static readonly string[] SignalEndpointVariables =
    [
        EndpointVariable, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ];

    /// <summary>Whether an OTLP endpoint is configured (environment variables are part of <paramref name="configuration"/>).</summary>
    public static bool OtlpConfigured(IConfiguration configuration) =>
        SignalEndpointVariables.Any(name => !string.IsNullOrWhiteSpace(configuration[name]));

    /// <summary>Whether content capture was explicitly opted into.</summary>
    public static bool CaptureContent(IConfiguration configuration) =>
        string.Equals(configuration[CaptureContentVariable], "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Registers OpenTelemetry when OTLP is configured or <paramref name="prometheus"/> is set; returns whether it
    /// did. OTLP carries traces, metrics and logs; Prometheus only metrics.</summary>
    public static bool AddOpenTelemetry(IServiceCollection services, IConfiguration configuration, string serviceName, bool prometheus, bool aspNetCore)
    {
        var otlp = OtlpConfigured(configuration);
        if (!otlp && !prometheus)
        {
            return false;
        }

        var version = typeof(OpenTelemetrySetup).Assembly.GetName().Version?.ToString(3);
        var telemetry = services.AddOpenTelemetry().ConfigureResource(r => r.AddService(serviceName, serviceVersion: version));
        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(Meters).AddRuntimeInstrumentation().AddHttpClientInstrumentation();
            if (aspNetCore)
            {
                metrics.AddAspNetCoreInstrumentation();
            }

            if (otlp)
            {
                metrics.AddOtlpExporter();
            }

            if (prometheus)
            {
                metrics.AddPrometheusExporter();
            }
        });
        if (otlp)
        {
            telemetry.WithTracing(tracing =>
            {
                tracing.AddSource(ActivitySources).AddHttpClientInstrumentation(http => http.RecordException = false);
                if (aspNetCore)
                {
                    // The WebSocket upgrade and the scrape itself are not the story; the frames inside are.
                    tracing.AddAspNetCoreInstrumentation(a => a.Filter = c => !c.Request.Path.StartsWithSegments(MetricsPath, StringComparison.Ordinal));
                }

                tracing.AddOtlpExporter();
            });
            telemetry.WithLogging(logging => logging.AddOtlpExporter(), options =>
            {
                // Structured state only: never the formatted message of a Trace-level payload log.
                options.IncludeFormattedMessage = false;
                options.IncludeScopes = false;
            });
        }

        return true;
    }

    /// <summary>Serves <c>GET /metrics</c> (Prometheus text) to connections that arrive on a loopback address from a
    /// loopback peer, and, when <paramref name="port"/> is given, only on that port. Anything else falls through (and
    /// is answered as the app answers an unknown path).</summary>
    public static void UsePrometheusOnLoopback(IApplicationBuilder app, int? port = null) =>
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context => IsLoopbackMetricsRequest(context, port));

    /// <summary>The scrape filter: the path, a loopback local and remote address, and the port when one is dedicated.</summary>
    public static bool IsLoopbackMetricsRequest(HttpContext context, int? port) =>
        context.Request.Path.Equals(MetricsPath, StringComparison.Ordinal)
        && context.Connection.LocalIpAddress is { } local && IPAddress.IsLoopback(local)
        && context.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote)
        && (port is null || context.Connection.LocalPort == port);
}
