using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.Aggregation;

/// <summary>
/// Forwards an upstream call's progress to the downstream request that asked for it (on that request's own stream),
/// and lets the handler wait until every forwarded notification is written before it returns the result, so the
/// client sees progress before the response. The hub hands it the server's params as written
/// (<see cref="IProgress{T}"/> of <see cref="JsonObject"/>): only <c>progressToken</c> is mapped back to the client's
/// own token, so fields the SDK's <see cref="ProgressNotificationValue"/> does not know (a vendor's, <c>_meta</c>) reach
/// the client, as log messages do.
/// </summary>
internal sealed class ProgressRelay : IProgress<ProgressNotificationValue>, IProgress<JsonObject>
{
    private readonly McpServer _server;
    private readonly ProgressToken _token;
    private readonly JsonNode? _tokenJson;
    private readonly CancellationToken _cancellationToken;
    private readonly Lock _gate = new();
    private readonly List<Task> _pending = [];

    private ProgressRelay(McpServer server, ProgressToken token, CancellationToken cancellationToken)
    {
        _server = server;
        _token = token;
        _tokenJson = JsonSerializer.SerializeToNode(token, McpJsonUtilities.GetTypeInfo<ProgressToken>(McpJsonUtilities.DefaultOptions));
        _cancellationToken = cancellationToken;
    }

    /// <summary>Returns a relay when the request carries a progress token, otherwise <see langword="null"/>.</summary>
    public static ProgressRelay? For<TParams>(RequestContext<TParams> request, CancellationToken cancellationToken)
        where TParams : RequestParams =>
        request.Params?.ProgressToken is { } token ? new ProgressRelay(request.Server, token, cancellationToken) : null;

    public void Report(ProgressNotificationValue value) =>
        Add(_server.NotifyProgressAsync(_token, value, cancellationToken: _cancellationToken));

    /// <summary>Relays the server's params as written (the hub's copy), with the client's token in place of the hub's.</summary>
    public void Report(JsonObject value)
    {
        ArgumentNullException.ThrowIfNull(value);
        value["progressToken"] = _tokenJson?.DeepClone();
        var notification = new JsonRpcNotification { Method = NotificationMethods.ProgressNotification, Params = value };
        Add(_server.SendMessageAsync(notification, _cancellationToken));
    }

    public async Task FlushAsync()
    {
        Task[] pending;
        lock (_gate)
        {
            pending = [.. _pending];
        }

        await Task.WhenAll(pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private void Add(Task send)
    {
        lock (_gate)
        {
            _pending.Add(send);
        }
    }
}
