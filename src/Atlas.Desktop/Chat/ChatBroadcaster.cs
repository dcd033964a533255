using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Realtime;

namespace Atlas.Desktop.Chat;

/// <summary>Shows every live session of a device what another session did: the other sockets get the chat events of
/// a generation they are not reading (only in order from its start or from where their own resume left off, never
/// ahead of a replay), and conversation changes, as frames without <c>re</c>.</summary>
internal sealed class ChatBroadcaster
{
    private readonly ConnectionRegistry _connections;

    public ChatBroadcaster(ConnectionRegistry connections)
    {
        _connections = connections;
    }

    /// <summary>A conversation change (new, renamed, deleted) for the device's other sessions; <paramref name="origin"/>
    /// (the session that made it) has it in its own answer.</summary>
    public void Publish(string deviceId, ConversationResponse change, object? origin) =>
        Send(deviceId, MessageTypes.ConversationResponse, JsonSerializer.SerializeToElement(change, AtlasJsonContext.Default.ConversationResponse),
            connection => ReferenceEquals(connection, origin));

    public void Send(string deviceId, string type, JsonElement data, Func<DeviceConnection, bool>? skip = null)
    {
        if (_connections.CountFor(deviceId) == 0)
        {
            return;
        }

        foreach (var connection in _connections.Snapshot(deviceId))
        {
            // Permission first: skip may record the frame as sent (chat events), so it runs only when the frame can go.
            if (connection.HasPermission(Permissions.Chat) && skip?.Invoke(connection) != true)
            {
                connection.Send(new AtlasEnvelope { Type = type, Data = data });
            }
        }
    }
}
