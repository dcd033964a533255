using Atlas.Client;
using Atlas.Client.Chat;
using Atlas.Client.Connection;
using Atlas.Client.Credentials;
using Atlas.Client.Files;
using Atlas.Client.Media;
using Atlas.Client.Offline;
using Atlas.Client.Protocol;

namespace Atlas.Connect;

/// <summary>Everything <c>atlas connect</c> holds for one desktop: the pinned client, the live connection (when the
/// desktop is reachable), the outbox and the conversation cache.</summary>
internal sealed class ConnectSession : IAsyncDisposable
{
    private ConnectSession(ConnectProfile profile, AtlasClient client, SqliteClientStore store)
    {
        Profile = profile;
        Client = client;
        Store = store;
        Outbox = new AtlasOutbox(store);
        Conversations = new ReadThroughConversations(store);
        Files = new AtlasFiles(client);
        Media = new AtlasMedia(client);
    }

    public ConnectProfile Profile { get; }

    public AtlasClient Client { get; }

    public SqliteClientStore Store { get; }

    public AtlasOutbox Outbox { get; }

    public ReadThroughConversations Conversations { get; }

    public AtlasFiles Files { get; }

    public AtlasMedia Media { get; }

    public AtlasConnection? Connection { get; private set; }

    public AtlasChat? Chat { get; private set; }

    public DeviceCredentials Credentials => Profile.Credentials;

    public bool Online => Connection is { State: AtlasConnectionState.Connected };

    public static AtlasClientOptions ClientOptions() => new()
    {
        RequestTimeout = TimeSpan.FromSeconds(30),
        ReconnectBaseDelay = TimeSpan.FromMilliseconds(250),
        ReconnectMaxDelay = TimeSpan.FromSeconds(10),
    };

    public static async Task<ConnectSession> OpenAsync(ConnectProfile profile, CancellationToken cancellationToken)
    {
        var store = await SqliteClientStore.OpenAsync(profile.DatabasePath, cancellationToken).ConfigureAwait(false);
        return new ConnectSession(profile, new AtlasClient(profile.Credentials, ClientOptions()), store);
    }

    /// <summary>Connects; returns false when the desktop is unreachable. Revocation, a certificate mismatch and other
    /// refusals are thrown.</summary>
    public async Task<bool> TryConnectAsync(Action<AtlasConnectionState>? onStateChanged, CancellationToken cancellationToken)
    {
        if (Connection is not null)
        {
            return true;
        }

        var connection = await Client.TryConnectAsync(cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return false;
        }

        Attach(connection, onStateChanged);
        return true;
    }

    /// <summary>Waits until the desktop can be reached and connects (<see cref="AtlasClient.ConnectWhenReachableAsync"/>).
    /// Refusals are thrown.</summary>
    public async Task ConnectWhenReachableAsync(Action<AtlasConnectionState>? onStateChanged, CancellationToken cancellationToken)
    {
        if (Connection is null)
        {
            Attach(await Client.ConnectWhenReachableAsync(cancellationToken).ConfigureAwait(false), onStateChanged);
        }
    }

    private void Attach(AtlasConnection connection, Action<AtlasConnectionState>? onStateChanged)
    {
        if (onStateChanged is not null)
        {
            connection.StateChanged += onStateChanged;
        }

        Connection = connection;
        Chat = new AtlasChat(connection);
    }

    /// <summary>Lists conversations from the desktop (refreshing the cache) or, offline, from the cache.</summary>
    public async Task<(IReadOnlyList<ConversationInfo> Conversations, bool Cached)> ListConversationsAsync(CancellationToken cancellationToken)
    {
        var read = await Conversations.ListAsync(Online ? Chat : null, cancellationToken).ConfigureAwait(false);
        return (read.Value, read.FromCache);
    }

    /// <summary>Loads a conversation from the desktop (caching it) or, offline, from the cache.</summary>
    public async Task<(ConversationResponse? Conversation, bool Cached)> LoadConversationAsync(string id, CancellationToken cancellationToken)
    {
        var read = await Conversations.LoadAsync(Online ? Chat : null, id, cancellationToken).ConfigureAwait(false);
        return (read.Value, read.FromCache);
    }

    public async ValueTask DisposeAsync()
    {
        if (Connection is not null)
        {
            await Connection.DisposeAsync().ConfigureAwait(false);
        }

        Client.Dispose();
        Outbox.Dispose();
        Store.Dispose();
    }
}
