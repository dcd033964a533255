using Atlas.Client.Offline;
using Atlas.Client.Protocol;

namespace Atlas.Client.Tests.Offline;

/// <summary>The read-through conversation cache of Atlas.Client while offline (the online half runs against a real
/// desktop in Atlas.Desktop.Tests/Connect/ReadThroughConversationsOnlineTests).</summary>
public sealed class ReadThroughConversationsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "atrt-" + Guid.NewGuid().ToString("N")[..10]);

    public ReadThroughConversationsTests() => Directory.CreateDirectory(_dir);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Offline, the list is the one the desktop last sent, marked as coming from the cache.</summary>
    [Fact]
    [Trait("Issue13", "clients")]
    public async Task ListAsync_Offline_AnswersTheCachedListFromCache()
    {
        using var store = await SqliteClientStore.OpenAsync(Path.Combine(_dir, "client.db"), Ct);
        await store.SaveListAsync([new ConversationInfo { Id = "cnv_2", Title = "two" }, new ConversationInfo { Id = "cnv_1", Title = "one" }], Ct);
        var conversations = new ReadThroughConversations(store);

        var read = await conversations.ListAsync(chat: null, Ct);

        Assert.True(read.FromCache);
        Assert.Equal(["cnv_2", "cnv_1"], read.Value.Select(c => c.Id));
    }

    /// <summary>Offline, a conversation loaded before is readable with its messages; one never loaded here is null.</summary>
    [Fact]
    [Trait("Issue13", "clients")]
    public async Task LoadAsync_Offline_AnswersCachedMessagesOrNull()
    {
        using var store = await SqliteClientStore.OpenAsync(Path.Combine(_dir, "client.db"), Ct);
        await store.SaveConversationAsync(new ConversationResponse
        {
            Op = "load",
            Conversation = new ConversationInfo { Id = "cnv_1", Title = "one" },
            Messages = [new ChatMessageView { Id = "msg_1", Role = "user", Content = "hello" }],
        }, Ct);
        var conversations = new ReadThroughConversations(store);

        var cached = await conversations.LoadAsync(chat: null, "cnv_1", Ct);
        var missing = await conversations.LoadAsync(chat: null, "cnv_9", Ct);

        Assert.True(cached.FromCache);
        Assert.Equal("hello", Assert.Single(cached.Value!.Messages!).Content);
        Assert.True(missing.FromCache);
        Assert.Null(missing.Value);
    }
}
