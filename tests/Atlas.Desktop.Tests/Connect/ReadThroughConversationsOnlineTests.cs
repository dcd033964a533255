using Atlas.Client.Connection;
using Atlas.Client.Offline;
using Atlas.Desktop.Tests.Chat;

namespace Atlas.Desktop.Tests.Connect;

/// <summary>Atlas.Client's "connect when reachable" and read-through conversation cache against a real desktop.</summary>
public sealed class ReadThroughConversationsOnlineTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "atrto-" + Guid.NewGuid().ToString("N")[..10]);
    private SqliteClientStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _store = await SqliteClientStore.OpenAsync(Path.Combine(_dir, "client.db"), Ct);
    }

    public ValueTask DisposeAsync()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
        return ValueTask.CompletedTask;
    }

    /// <summary>What was read online is what the cache answers offline, conversation list and messages alike.</summary>
    [Fact]
    [Trait("Issue13", "clients")]
    public async Task ReadThrough_OnlineThenOffline_CacheAnswersWhatTheDesktopSent()
    {
        await using var chat = await ChatHost.StartAsync();
        var phone = await chat.PhoneAsync();
        var events = await ChatHost.AllAsync(phone.Chat.SendAsync(ChatHost.Message("remember me"), cancellationToken: Ct));
        var conversationId = events.Select(e => e.ConversationId).First(id => id is not null)!;
        var conversations = new ReadThroughConversations(_store);

        var listOnline = await conversations.ListAsync(phone.Chat, Ct);
        var loadOnline = await conversations.LoadAsync(phone.Chat, conversationId, Ct);
        var listOffline = await conversations.ListAsync(chat: null, Ct);
        var loadOffline = await conversations.LoadAsync(chat: null, conversationId, Ct);

        Assert.False(listOnline.FromCache);
        Assert.False(loadOnline.FromCache);
        Assert.True(listOffline.FromCache);
        Assert.True(loadOffline.FromCache);
        Assert.Equal(conversationId, Assert.Single(listOffline.Value).Id);
        Assert.Equal(loadOnline.Value!.Messages!.Select(m => m.Content), loadOffline.Value!.Messages!.Select(m => m.Content));
        Assert.Contains("remember me", loadOffline.Value.Messages!.Select(m => m.Content));
    }

    /// <summary>With the desktop up, ConnectWhenReachableAsync returns a connected, authenticated connection.</summary>
    [Fact]
    [Trait("Issue13", "clients")]
    public async Task ConnectWhenReachableAsync_DesktopUp_Connects()
    {
        await using var chat = await ChatHost.StartAsync();
        var phone = await chat.PhoneAsync();

        await using var connection = await phone.Client.ConnectWhenReachableAsync(Ct);

        Assert.Equal(AtlasConnectionState.Connected, connection.State);
        Assert.Equal(phone.DeviceId, connection.DeviceId);
    }
}
