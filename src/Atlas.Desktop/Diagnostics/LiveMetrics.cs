using System.Diagnostics.Metrics;
using Atlas.Desktop.Hosting;

namespace Atlas.Desktop.Diagnostics;

/// <summary>
/// The admin UI's live numbers, aggregated in process from the same instruments OpenTelemetry exports (a
/// <see cref="MeterListener"/>, so they work with every exporter off): calls, errors and latency percentiles per MCP
/// server, tokens, answers and spend today, devices connected and the media queue. Only numbers and the low-cardinality
/// tags the instruments carry (server ids, models) are kept.
/// </summary>
internal sealed class LiveMetrics : IDisposable
{
    /// <summary>Latency samples kept per server for the percentiles (the most recent ones).</summary>
    internal const int LatencySamples = 512;

    private static readonly HashSet<string> Observed = new(StringComparer.Ordinal)
    {
        "mmcp.client.requests", "mmcp.client.request.duration", "atlas.chat.tokens", "atlas.chat.cost", "atlas.chat.outcomes",
        "atlas.ws.connections", "atlas.media.queue.depth", "atlas.media.jobs.completed",
    };

    private readonly MeterListener _listener = new();
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ServerNumbers> _servers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModelNumbers> _models = new(StringComparer.Ordinal);
    private DateOnly _day;
    private long _connections;
    private long _mediaQueued;
    private long _mediaDone;

    public LiveMetrics(AtlasTime time)
        : this(time, listen: true)
    {
    }

    /// <summary>Initializes the numbers; without <paramref name="listen"/> nothing is measured but what is given to
    /// <see cref="OnLong"/> (for tests: the instruments are shared by every host in a process).</summary>
    internal LiveMetrics(AtlasTime time, bool listen)
    {
        _time = time.Provider;
        _day = Today();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (Observed.Contains(instrument.Name) && instrument.Meter.Name is "Mmcp.Client" or "Atlas.Desktop" or "Atlas.Media")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnLong(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => OnDouble(instrument.Name, value, tags));
        if (listen)
        {
            _listener.Start();
        }
    }

    public LiveMetricsView Snapshot()
    {
        lock (_lock)
        {
            RollDay();
            var servers = _servers.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s =>
            {
                var sorted = s.Value.Latencies.ToArray();
                Array.Sort(sorted);
                return new ServerMetricsView(s.Key, s.Value.Calls, s.Value.Errors, Percentile(sorted, 0.50), Percentile(sorted, 0.95));
            }).ToList();
            var models = _models.OrderBy(m => m.Key, StringComparer.Ordinal)
                .Select(m => new ModelMetricsView(m.Key, m.Value.Answers, m.Value.InputTokens, m.Value.OutputTokens, m.Value.Cost)).ToList();
            return new LiveMetricsView(_day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), servers, models,
                models.Sum(m => m.InputTokens + m.OutputTokens), models.Sum(m => m.Spend), _connections, Math.Max(0, _mediaQueued), _mediaDone);
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>The value at quantile <paramref name="q"/> of sorted samples (nearest rank), or null with none.</summary>
    internal static double? Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    internal void OnLong(string name, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_lock)
        {
            RollDay();
            switch (name)
            {
                case "mmcp.client.requests":
                    var server = Server(Tag(tags, "mmcp.server"));
                    server.Calls += value;
                    if (Tag(tags, "outcome") != "ok")
                    {
                        server.Errors += value;
                    }

                    break;
                case "atlas.chat.tokens":
                    var model = Model(Tag(tags, "gen_ai.request.model"));
                    if (Tag(tags, "gen_ai.token.type") == "input")
                    {
                        model.InputTokens += value;
                    }
                    else
                    {
                        model.OutputTokens += value;
                    }

                    break;
                case "atlas.chat.outcomes":
                    Model(Tag(tags, "gen_ai.request.model")).Answers += value;
                    break;
                case "atlas.ws.connections" when Tag(tags, "atlas.device.kind") != "desktop": // paired devices, as the admin page counts them
                    _connections += value;
                    break;
                case "atlas.media.queue.depth":
                    _mediaQueued += value;
                    break;
                case "atlas.media.jobs.completed":
                    _mediaDone += value;
                    break;
            }
        }
    }

    private void OnDouble(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_lock)
        {
            RollDay();
            if (name == "mmcp.client.request.duration")
            {
                var latencies = Server(Tag(tags, "mmcp.server")).Latencies;
                if (latencies.Count == LatencySamples)
                {
                    latencies.Dequeue();
                }

                latencies.Enqueue(value);
            }
            else if (name == "atlas.chat.cost")
            {
                Model(Tag(tags, "gen_ai.request.model")).Cost += value;
            }
        }
    }

    /// <summary>Tokens, answers and spend are "today" (the desktop's local date): a new day starts them at zero.</summary>
    private void RollDay()
    {
        var today = Today();
        if (today != _day)
        {
            _day = today;
            _models.Clear();
        }
    }

    private DateOnly Today() => DateOnly.FromDateTime(_time.GetLocalNow().DateTime);

    private ServerNumbers Server(string id)
    {
        if (!_servers.TryGetValue(id, out var numbers))
        {
            _servers[id] = numbers = new ServerNumbers();
        }

        return numbers;
    }

    private ModelNumbers Model(string id)
    {
        if (!_models.TryGetValue(id, out var numbers))
        {
            _models[id] = numbers = new ModelNumbers();
        }

        return numbers;
    }

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == key)
            {
                return tag.Value?.ToString() ?? "";
            }
        }

        return "";
    }

    private sealed class ServerNumbers
    {
        public long Calls { get; set; }

        public long Errors { get; set; }

        public Queue<double> Latencies { get; } = new();
    }

    private sealed class ModelNumbers
    {
        public long Answers { get; set; }

        public long InputTokens { get; set; }

        public long OutputTokens { get; set; }

        public double Cost { get; set; }
    }
}

/// <summary>The admin UI's live numbers (<c>GET /admin/api/metrics</c>); durations in seconds.</summary>
internal sealed record LiveMetricsView(string Day, IReadOnlyList<ServerMetricsView> Servers, IReadOnlyList<ModelMetricsView> Models,
    long TokensToday, double SpendToday, long DevicesConnected, long MediaQueued, long MediaFinished);

/// <summary>Calls and errors since start and latency percentiles (seconds) of the recent calls to one MCP server.</summary>
internal sealed record ServerMetricsView(string Server, long Calls, long Errors, double? P50, double? P95);

/// <summary>Today's answers, tokens and spend (US dollars as the provider reports credits) of one model.</summary>
internal sealed record ModelMetricsView(string Model, long Answers, long InputTokens, long OutputTokens, double Spend);
