using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Mmcp.Client;
using Mmcp.Gateway.Aggregation;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Gateway.Fronts;

/// <summary>
/// Runs the stdio face's <see cref="StdioFront"/> for the life of the host (the end of standard input ends it once every
/// request read is answered, and with it the SDK's session and the host; stopping the host ends it at once) and tells
/// the client when the hub's tools, resources or prompts change.
/// </summary>
internal sealed class StdioFrontService(StdioFront front, GatewayCatalog catalog, IServiceProvider services) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        catalog.Changed += OnChanged;
        _ = front.RunAsync(_stopping.Token); // ends with standard input, once answered, which ends the SDK's session and the host
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        catalog.Changed -= OnChanged;
        // Not awaited: a read of standard input may not notice the cancellation until the client writes or closes it.
        await _stopping.CancelAsync().ConfigureAwait(false);
        await front.DisposeAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    private void OnChanged(HubListKind kind) => _ = NotifyAsync(kind);

    private async Task NotifyAsync(HubListKind kind)
    {
        if (!front.ClientInitialized || services.GetService<McpServer>() is not { } server)
        {
            return;
        }

        try
        {
            await server.SendNotificationAsync(kind switch
            {
                HubListKind.Resources => NotificationMethods.ResourceListChangedNotification,
                HubListKind.Prompts => NotificationMethods.PromptListChangedNotification,
                _ => NotificationMethods.ToolListChangedNotification,
            }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or McpException)
        {
            // The client went away: nothing to tell.
        }
    }
}
