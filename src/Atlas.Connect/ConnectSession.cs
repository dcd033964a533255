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
        Files = new AtlasFiles(client);
        Media = new AtlasMedia(client);
    }

    public ConnectProfile Profile { get; }

    public AtlasClient Client { get; }

    public SqliteClientStore Store { get; }

    public AtlasOutbox Outbox { get; }

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

        try
        {
            Client.InvalidateSession();
            var connection = await Client.ConnectAsync(cancellationToken).ConfigureAwait(false);
            if (onStateChanged is not null)
            {
                connection.StateChanged += onStateChanged;
            }

            Connection = connection;
            Chat = new AtlasChat(connection);
            return true;
        }
        catch (Exception e) when (ConnectErrors.IsUnreachable(e) && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Lists conversations from the desktop (refreshing the cache) or, offline, from the cache.</summary>
    public async Task<(IReadOnlyList<ConversationInfo> Conversations, bool Cached)> ListConversationsAsync(CancellationToken cancellationToken)
    {
        if (Online && Chat is not null)
        {
            var list = await Chat.ListConversationsAsync(cancellationToken).ConfigureAwait(false);
            await Store.SaveListAsync(list, cancellationToken).ConfigureAwait(false);
            return (list, false);
        }

        return (await Store.ListAsync(cancellationToken).ConfigureAwait(false), true);
    }

    /// <summary>Loads a conversation from the desktop (caching it) or, offline, from the cache.</summary>
    public async Task<(ConversationResponse? Conversation, bool Cached)> LoadConversationAsync(string id, CancellationToken cancellationToken)
    {
        if (Online && Chat is not null)
        {
            var loaded = await Chat.LoadConversationAsync(id, cancellationToken).ConfigureAwait(false);
            await Store.SaveConversationAsync(loaded, cancellationToken).ConfigureAwait(false);
            return (loaded, false);
        }

        return (await Store.LoadAsync(id, cancellationToken).ConfigureAwait(false), true);
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
