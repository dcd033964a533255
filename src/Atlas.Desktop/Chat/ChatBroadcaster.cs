using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Realtime;

namespace Atlas.Desktop.Chat;

/// <summary>Shows every live session of a device what another session did: the other sockets get the chat events of
/// a generation they are not reading, and conversation changes, as frames without <c>re</c>.</summary>
internal sealed class ChatBroadcaster
{
    private readonly ConnectionRegistry _connections;

    public ChatBroadcaster(ConnectionRegistry connections)
    {
        _connections = connections;
    }

    public void Send(string deviceId, string type, JsonElement data, Func<DeviceConnection, bool>? skip = null)
    {
        if (_connections.CountFor(deviceId) == 0)
        {
            return;
        }

        foreach (var connection in _connections.Snapshot(deviceId))
        {
            if (skip?.Invoke(connection) != true && connection.HasPermission(Permissions.Chat))
            {
                connection.Send(new AtlasEnvelope { Type = type, Data = data });
            }
        }
    }
}
