namespace Atlas.Client.Connection;

/// <summary>The state of an <see cref="AtlasConnection"/>.</summary>
public enum AtlasConnectionState
{
    /// <summary>The socket is up and authenticated.</summary>
    Connected,

    /// <summary>The socket dropped; the connection is re-established with jittered backoff. Requests wait.</summary>
    Reconnecting,

    /// <summary>Closed for good (disposed, or the device was revoked); see <see cref="AtlasConnection.Closed"/>.</summary>
    Closed,
}
