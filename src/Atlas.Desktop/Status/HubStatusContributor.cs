using System.Text.Json.Nodes;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Tools;
using Atlas.Desktop.Storage;
using Mmcp.Client;
using Mmcp.Client.Consent;

namespace Atlas.Desktop.Status;

/// <summary><c>hub</c>: the MCP servers the desktop's hub discovered that this device may use (the <c>tools</c>
/// permission lists every server, <c>tools:&lt;id&gt;</c> that one; a device without either sees none), each with its
/// connection state and whether the LLM may use its tools for this device (<c>allowed</c>: false when the desktop's
/// consent denies the server). Names and descriptions go out without the desktop's local paths
/// (<see cref="LocalPathRedactor"/>). Sources are read once; after that the hub's watcher keeps the registry current,
/// so a status update (sent at every socket's auth) costs no file reads.</summary>
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
        if (!permissions.Any(p => p == Permissions.Tools || p.StartsWith(Permissions.ToolsServerPrefix, StringComparison.Ordinal)))
        {
            return new JsonObject { ["servers"] = new JsonArray() };
        }

        if (Interlocked.Exchange(ref _discovered, 1) == 0)
        {
            await _hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false);
        }

        var servers = new JsonArray();
        foreach (var server in _hub.Registry.Current.Servers)
        {
            if (!HubChatToolProvider.Allows(permissions, server.Id))
            {
                continue; // the desktop's inventory is not the business of a device that may not use it
            }

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
                ["name"] = LocalPathRedactor.Redact(server.Manifest.Name),
                ["description"] = LocalPathRedactor.Redact(server.Manifest.Description),
                ["state"] = state,
                ["allowed"] = _consent.GetServer(server.Id)?.Decision != ConsentDecision.Deny,
            });
        }

        return new JsonObject { ["servers"] = servers };
    }
}
