using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace Atlas.Desktop.Tests.Telemetry.Otlp;

/// <summary>
/// A small OTLP/HTTP receiver (<c>http/protobuf</c>) on real Kestrel on a free loopback port: it decodes the official
/// OTLP protobuf messages (compiled from opentelemetry-proto) that exporters POST to <c>/v1/traces</c>,
/// <c>/v1/metrics</c> and <c>/v1/logs</c>, keeps them, and signals every arrival so tests wait on data, not time.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(Resource Resource, Span Span)> _spans = new();
    private readonly ConcurrentQueue<Metric> _metrics = new();
    private readonly ConcurrentQueue<KeyValue> _logAttributes = new();
    private readonly ConcurrentQueue<string> _logBodies = new();
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>The base URL to put in <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>).</summary>
    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyCollection<(Resource Resource, Span Span)> Spans => _spans;

    public IReadOnlyCollection<Metric> Metrics => _metrics;

    /// <summary>Every attribute of every log record received.</summary>
    public IReadOnlyCollection<KeyValue> LogAttributes => _logAttributes;

    public IReadOnlyCollection<string> LogBodies => _logBodies;

    public static async Task<OtlpReceiver> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async context =>
        {
            var request = ExportTraceServiceRequest.Parser.ParseFrom(await ReadAsync(context).ConfigureAwait(false));
            foreach (var resource in request.ResourceSpans)
            {
                foreach (var span in resource.ScopeSpans.SelectMany(s => s.Spans))
                {
                    receiver._spans.Enqueue((resource.Resource, span));
                }
            }

            await receiver.AnswerAsync(context, new ExportTraceServiceResponse()).ConfigureAwait(false);
        });
        app.MapPost("/v1/metrics", async context =>
        {
            var request = ExportMetricsServiceRequest.Parser.ParseFrom(await ReadAsync(context).ConfigureAwait(false));
            foreach (var metric in request.ResourceMetrics.SelectMany(r => r.ScopeMetrics).SelectMany(s => s.Metrics))
            {
                receiver._metrics.Enqueue(metric);
            }

            await receiver.AnswerAsync(context, new ExportMetricsServiceResponse()).ConfigureAwait(false);
        });
        app.MapPost("/v1/logs", async context =>
        {
            var request = ExportLogsServiceRequest.Parser.ParseFrom(await ReadAsync(context).ConfigureAwait(false));
            foreach (var record in request.ResourceLogs.SelectMany(r => r.ScopeLogs).SelectMany(s => s.LogRecords))
            {
                foreach (var attribute in record.Attributes)
                {
                    receiver._logAttributes.Enqueue(attribute);
                }

                receiver._logBodies.Enqueue(record.Body?.ToString() ?? "");
            }

            await receiver.AnswerAsync(context, new ExportLogsServiceResponse()).ConfigureAwait(false);
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        receiver.Endpoint = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    /// <summary>Waits until <paramref name="condition"/> holds over what has arrived (checked at every arrival).</summary>
    public async Task WaitUntilAsync(Func<OtlpReceiver, bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        while (true)
        {
            var arrival = Volatile.Read(ref _arrived).Task;
            if (condition(this))
            {
                return;
            }

            await arrival.WaitAsync(limit.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Every attribute value (and span name, event and status message) received, as text: what a test searches
    /// for secrets and prompt text.</summary>
    public IEnumerable<string> AllExportedText()
    {
        foreach (var (resource, span) in _spans)
        {
            yield return span.Name;
            yield return span.Status?.Message ?? "";
            foreach (var attribute in resource.Attributes.Concat(span.Attributes).Concat(span.Events.SelectMany(e => e.Attributes)).Concat(span.Links.SelectMany(l => l.Attributes)))
            {
                yield return attribute.Key + "=" + attribute.Value;
            }
        }

        foreach (var metric in _metrics)
        {
            yield return metric.ToString();
        }

        foreach (var attribute in _logAttributes)
        {
            yield return attribute.Key + "=" + attribute.Value;
        }

        foreach (var body in _logBodies)
        {
            yield return body;
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync().ConfigureAwait(false);

    private static async Task<byte[]> ReadAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private async Task AnswerAsync(HttpContext context, IMessage response)
    {
        context.Response.ContentType = "application/x-protobuf";
        await context.Response.Body.WriteAsync(response.ToByteArray(), context.RequestAborted).ConfigureAwait(false);
        Interlocked.Exchange(ref _arrived, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
