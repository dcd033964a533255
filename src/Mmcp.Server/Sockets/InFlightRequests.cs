using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Server.Sockets;

/// <summary>Counts requests being handled across all sessions, so shutdown waits for work in progress but not for idle connections.</summary>
internal sealed class InFlightRequests
{
    private readonly Lock _lock = new();
    private int _count;
    private TaskCompletionSource _idle = NewIdleSignal(completed: true);

    public int Count => Volatile.Read(ref _count);

    /// <summary>The message filter that wraps every incoming request.</summary>
    public McpMessageFilter Filter => next => async (context, cancellationToken) =>
    {
        // subscriptions/listen stays open for the life of a subscription; it is not work in progress that shutdown should wait for.
        if (context.JsonRpcMessage is not JsonRpcRequest request || request.Method == RequestMethods.SubscriptionsListen)
        {
            await next(context, cancellationToken).ConfigureAwait(false);
            return;
        }

        Enter();
        try
        {
            await next(context, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Exit();
        }
    };

    /// <summary>Completes when no request is in flight.</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }

    private void Enter()
    {
        lock (_lock)
        {
            if (_count++ == 0)
            {
                _idle = NewIdleSignal(completed: false);
            }
        }
    }

    private void Exit()
    {
        lock (_lock)
        {
            if (--_count == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    private static TaskCompletionSource NewIdleSignal(bool completed)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            tcs.SetResult();
        }

        return tcs;
    }
}
