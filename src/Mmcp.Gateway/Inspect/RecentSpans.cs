using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Mmcp.Gateway.Inspect;

/// <summary>
/// <c>GET /inspect-spans[?server=ID]</c>: the spans of recent calls through the gateway (the gateway's, the hub's and
/// the MCP SDK's), first the ones kept in a ring of the last <see cref="Capacity"/>, then live as calls end, as
/// Server-Sent Events. Recording starts with the first watcher and stops with the last, so a gateway nobody inspects
/// creates no spans (zero cost); the ring keeps what was recorded. Only the span's name, timing, status and the
/// conventions' low-cardinality tags are kept: never arguments, results or tokens. Needs the <c>inspect</c> scope.
/// </summary>
internal sealed class RecentSpans : IDisposable
{
    public const int Capacity = 256;

    private static readonly HashSet<string> Sources = new(StringComparer.Ordinal) { "Mmcp.Gateway", "Mmcp.Client", "Experimental.ModelContextProtocol" };

    private static readonly string[] KeptTags =
    [
        "mcp.method.name", "gen_ai.tool.name", "gen_ai.prompt.name", "gen_ai.operation.name", "mmcp.server", "mmcp.tool", "mmcp.surface",
        "network.transport", "error.type", "jsonrpc.request.id", "mcp.protocol.version",
    ];

    private readonly Lock _lock = new();
    private readonly Queue<SpanRecord> _ring = new();
    private readonly List<Channel<SpanRecord>> _watchers = [];
    private ActivityListener? _listener;

    /// <summary>A finished span as <c>mmcp inspect --spans</c> prints it; durations in seconds.</summary>
    internal sealed record SpanRecord(string Name, string Source, string Kind, string TraceId, string SpanId, string? ParentId,
        DateTimeOffset Start, double Seconds, string Status, IReadOnlyList<KeyValuePair<string, string>> Tags)
    {
        public string? Tag(string key) => Tags.FirstOrDefault(t => t.Key == key).Value;
    }

    /// <summary>Whether spans are being recorded now (someone watches).</summary>
    public bool Recording => Volatile.Read(ref _listener) is not null;

    /// <summary>The spans kept, oldest first.</summary>
    public IReadOnlyList<SpanRecord> Snapshot()
    {
        lock (_lock)
        {
            return [.. _ring];
        }
    }

    /// <summary>Starts watching (and recording, for the first watcher): the reader gets every span that ends from now on.</summary>
    public ChannelReader<SpanRecord> Watch(out IReadOnlyList<SpanRecord> recent, out IDisposable stop)
    {
        var channel = Channel.CreateBounded<SpanRecord>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_lock)
        {
            recent = [.. _ring];
            _watchers.Add(channel);
            if (_listener is null)
            {
                var listener = new ActivityListener
                {
                    ShouldListenTo = source => Sources.Contains(source.Name),
                    Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                    ActivityStopped = Add,
                };
                ActivitySource.AddActivityListener(listener);
                Volatile.Write(ref _listener, listener);
            }
        }

        stop = new Unwatch(this, channel);
        return channel.Reader;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _listener?.Dispose();
            _listener = null;
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryComplete();
            }

            _watchers.Clear();
        }
    }

    internal void Add(Activity activity)
    {
        var tags = new List<KeyValuePair<string, string>>();
        foreach (var key in KeptTags)
        {
            if (activity.GetTagItem(key) is { } value)
            {
                tags.Add(new(key, Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));
            }
        }

        var record = new SpanRecord(activity.DisplayName, activity.Source.Name, activity.Kind.ToString().ToLowerInvariant(),
            activity.TraceId.ToHexString(), activity.SpanId.ToHexString(), activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
            activity.StartTimeUtc, activity.Duration.TotalSeconds, activity.Status == ActivityStatusCode.Error ? "error" : "ok", tags);
        lock (_lock)
        {
            if (_ring.Count == Capacity)
            {
                _ring.Dequeue();
            }

            _ring.Enqueue(record);
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(record);
            }
        }
    }

    public async Task StreamAsync(HttpContext context)
    {
        var server = context.Request.Query["server"].ToString();
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache,no-store";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var reader = Watch(out var recent, out var stop);
        var ct = context.RequestAborted;
        using (stop)
        {
            try
            {
                await WriteAsync(response, "ready", "{}", ct).ConfigureAwait(false);
                foreach (var span in recent.Where(s => Matches(s, server)))
                {
                    await WriteAsync(response, "span", Describe(span), ct).ConfigureAwait(false);
                }

                while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
                {
                    while (reader.TryRead(out var span))
                    {
                        if (Matches(span, server))
                        {
                            await WriteAsync(response, "span", Describe(span), ct).ConfigureAwait(false);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
        }
    }

    internal static string Describe(SpanRecord span)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("kind", "span");
            w.WriteString("name", span.Name);
            w.WriteString("source", span.Source);
            w.WriteString("spanKind", span.Kind);
            w.WriteString("traceId", span.TraceId);
            w.WriteString("spanId", span.SpanId);
            if (span.ParentId is not null)
            {
                w.WriteString("parentId", span.ParentId);
            }

            w.WriteString("start", span.Start.ToString("O", CultureInfo.InvariantCulture));
            w.WriteNumber("seconds", Math.Round(span.Seconds, 6));
            w.WriteString("status", span.Status);
            w.WriteStartObject("tags");
            foreach (var (key, value) in span.Tags)
            {
                w.WriteString(key, value);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    // A span of the SDK carries no server id: with a filter, only the gateway's and the hub's spans of that server show.
    private static bool Matches(SpanRecord span, string server) => server.Length == 0 || span.Tag("mmcp.server") == server;

    private static async Task WriteAsync(HttpResponse response, string name, string data, CancellationToken ct)
    {
        await response.WriteAsync($"event: {name}\ndata: {data}\n\n", ct).ConfigureAwait(false);
        await response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    private sealed class Unwatch(RecentSpans owner, Channel<SpanRecord> channel) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._lock)
            {
                if (owner._watchers.Remove(channel) && owner._watchers.Count == 0)
                {
                    owner._listener?.Dispose();
                    Volatile.Write(ref owner._listener, null);
                }
            }

            channel.Writer.TryComplete();
        }
    }
}
