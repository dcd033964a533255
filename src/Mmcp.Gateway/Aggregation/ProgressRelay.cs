using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.Aggregation;

/// <summary>
/// Forwards an upstream call's progress to the downstream request that asked for it (on that request's own stream),
/// and lets the handler wait until every forwarded notification is written before it returns the result, so the
/// client sees progress before the response.
/// </summary>
internal sealed class ProgressRelay : IProgress<ProgressNotificationValue>
{
    private readonly McpServer _server;
    private readonly ProgressToken _token;
    private readonly CancellationToken _cancellationToken;
    private readonly Lock _gate = new();
    private readonly List<Task> _pending = [];

    private ProgressRelay(McpServer server, ProgressToken token, CancellationToken cancellationToken)
    {
        _server = server;
        _token = token;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Returns a relay when the request carries a progress token, otherwise <see langword="null"/>.</summary>
    public static ProgressRelay? For<TParams>(RequestContext<TParams> request, CancellationToken cancellationToken)
        where TParams : RequestParams =>
        request.Params?.ProgressToken is { } token ? new ProgressRelay(request.Server, token, cancellationToken) : null;

    public void Report(ProgressNotificationValue value)
    {
        var send = _server.NotifyProgressAsync(_token, value, cancellationToken: _cancellationToken);
        lock (_gate)
        {
            _pending.Add(send);
        }
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
}
