using System.Text;
using System.Threading.Channels;

namespace Atlas.Desktop.Admin;

/// <summary>
/// Tells open admin pages what changed, so they update without reloading: <c>GET /admin/api/events</c> is a
/// Server-Sent Events stream (loopback and the admin cookie, like the rest of the admin API) of topic lists such as
/// <c>data: ["devices"]</c>; the page fetches what a topic covers. Only topic names travel, never data.
/// </summary>
internal sealed class AdminEvents
{
    /// <summary>Devices: paired (waiting or approved), approved, denied, revoked, permissions, live connections.</summary>
    public const string Devices = "devices";

    /// <summary>The pairing window: a new QR code, pairing closed after failed attempts.</summary>
    public const string Pairing = "pairing";

    /// <summary>MCP servers: added, removed or changed in the registry, or their tool lists changed.</summary>
    public const string Servers = "servers";

    /// <summary>Media jobs: queued, finished, cancelled (progress is polled while a job runs).</summary>
    public const string Media = "media";

    private readonly Lock _lock = new();
    private readonly List<Channel<string>> _subscribers = [];
    private int _watchingHub;

    public AdminEvents(Realtime.ConnectionRegistry connections, Media.MediaJobTracker jobs)
    {
        connections.Changed += () => Publish(Devices);
        jobs.Changed += () => Publish(Media);
    }

    /// <summary>Open event streams (for tests and diagnostics).</summary>
    public int Subscribers
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>Follows the hub's server and tool list changes (from the first open page on: the hub is not started for
    /// this alone).</summary>
    public void Watch(Mmcp.Client.MmcpHub hub)
    {
        if (Interlocked.Exchange(ref _watchingHub, 1) == 0)
        {
            hub.ServersChanged += (_, _) => Publish(Servers);
            hub.ListChanged += (_, _) => Publish(Servers);
        }
    }

    /// <summary>Tells every open page that <paramref name="topic"/> changed. Never blocks: a page that does not read
    /// keeps only the latest topics (it refetches everything a topic covers anyway).</summary>
    public void Publish(string topic)
    {
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(topic);
            }
        }
    }

    /// <summary>Streams topics to one page until it goes away or the desktop stops.</summary>
    public async Task StreamAsync(HttpContext context, CancellationToken stopping)
    {
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(32) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_lock)
        {
            _subscribers.Add(channel);
        }

        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-store";
            response.Headers["X-Accel-Buffering"] = "no";

            // "ready" lets the page know it is live (and refetch whatever changed while it was reconnecting).
            await WriteAsync(response, "retry: 2000\ndata: [\"ready\"]\n\n", stop.Token).ConfigureAwait(false);
            var topics = new SortedSet<string>(StringComparer.Ordinal);
            while (await channel.Reader.WaitToReadAsync(stop.Token).ConfigureAwait(false))
            {
                topics.Clear();
                while (channel.Reader.TryRead(out var topic))
                {
                    topics.Add(topic);
                }

                await WriteAsync(response, $"data: [{string.Join(',', topics.Select(t => $"\"{t}\""))}]\n\n", stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The page went away or the desktop stops: the stream simply ends.
        }
        finally
        {
            lock (_lock)
            {
                _subscribers.Remove(channel);
            }
        }
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
