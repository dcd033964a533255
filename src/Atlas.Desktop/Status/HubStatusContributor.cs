using System.Text.Json.Nodes;
using Atlas.Desktop.Chat.Tools;
using Atlas.Desktop.Storage;
using Mmcp.Client;
using Mmcp.Client.Consent;

namespace Atlas.Desktop.Status;

/// <summary><c>hub</c>: the MCP servers the desktop's hub discovered, each with its connection state and whether this
/// device may let the LLM use its tools (<c>allowed</c>: the device's permission, and no desktop-wide consent denial of the server). Sources are read once; after that the hub's watcher keeps the
/// registry current, so a status update (sent at every socket's auth) costs no file reads.</summary>
internal sealed class HubStatusContributor : IStatusContributor
{
    private readonly MmcpHub _hub;
    private readonly IDeviceStore _devices;
    private readonly ConsentStore _consent;
    private int _discovered;

    public HubStatusContributor(MmcpHub hub, IDeviceStore devices, ConsentStore consent)
    {
        _hub = hub;
        _devices = devices;
        _consent = consent;
    }

    public string Name => "hub";

    public async ValueTask<JsonNode?> GetAsync(string deviceId, CancellationToken cancellationToken)
    {
        var permissions = (await _devices.GetAsync(deviceId, cancellationToken).ConfigureAwait(false))?.Permissions ?? [];
        if (Interlocked.Exchange(ref _discovered, 1) == 0)
        {
            await _hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false);
        }

        var servers = new JsonArray();
        foreach (var server in _hub.Registry.Current.Servers)
        {
            string state;
            try
            {
                state = _hub.GetServerStatus(server.Id).State.ToString().ToLowerInvariant();
            }
            catch (HubException)
            {
                state = "unknown"; // removed between the snapshot and now
            }

            servers.Add(new JsonObject
            {
                ["id"] = server.Id,
                ["name"] = server.Manifest.Name,
                ["description"] = server.Manifest.Description,
                ["state"] = state,
                ["allowed"] = HubChatToolProvider.Allows(permissions, server.Id) && _consent.GetServer(server.Id)?.Decision != ConsentDecision.Deny,
            });
        }

        return new JsonObject { ["servers"] = servers };
    }
}
