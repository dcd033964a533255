using System.Text.Json.Nodes;
using Atlas.Desktop.Chat.Tools;
using Atlas.Desktop.Storage;
using Mmcp.Client;

namespace Atlas.Desktop.Status;

/// <summary><c>hub</c>: the MCP servers the desktop's hub discovered, each with its connection state and whether this
/// device may let the LLM use its tools (<c>allowed</c>).</summary>
internal sealed class HubStatusContributor : IStatusContributor
{
    private readonly MmcpHub _hub;
    private readonly IDeviceStore _devices;

    public HubStatusContributor(MmcpHub hub, IDeviceStore devices)
    {
        _hub = hub;
        _devices = devices;
    }

    public string Name => "hub";

    public async ValueTask<JsonNode?> GetAsync(string deviceId, CancellationToken cancellationToken)
    {
        var permissions = (await _devices.GetAsync(deviceId, cancellationToken).ConfigureAwait(false))?.Permissions ?? [];
        var discovery = await _hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false);
        var servers = new JsonArray();
        foreach (var server in discovery.Servers)
        {
            servers.Add(new JsonObject
            {
                ["id"] = server.Id,
                ["name"] = server.Manifest.Name,
                ["description"] = server.Manifest.Description,
                ["state"] = server.Status.State.ToString().ToLowerInvariant(),
                ["allowed"] = HubChatToolProvider.Allows(permissions, server.Id),
            });
        }

        return new JsonObject { ["servers"] = servers };
    }
}
