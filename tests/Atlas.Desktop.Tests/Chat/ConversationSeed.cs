using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Conversations;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>Puts finished conversations straight into a host's real conversation store, at chosen times (for lists,
/// dates and search, where going through the model for each would only be slower).</summary>
internal static class ConversationSeed
{
    /// <summary>A conversation titled <paramref name="title"/> with one question and its answer, last used at
    /// <paramref name="at"/>; returns its id.</summary>
    public static async Task<string> AddAsync(AtlasTestHost host, string deviceId, string title, string question, string answer, DateTimeOffset at)
    {
        var store = host.Get<IConversationStore>();
        var id = "cnv_" + Guid.NewGuid().ToString("N");
        var requestId = Guid.NewGuid().ToString("N");
        var user = new ChatMessageView { Id = "msg_" + Guid.NewGuid().ToString("N"), Role = "user", Content = question, Status = ChatStatus.Done, CreatedAt = at, RequestId = requestId };
        var reply = new ChatMessageView { Id = "msg_" + Guid.NewGuid().ToString("N"), Role = "assistant", Content = "", Status = ChatStatus.Streaming, CreatedAt = at };
        var ct = TestContext.Current.CancellationToken;
        Assert.True(await store.StartTurnAsync(new NewTurn(deviceId, requestId, [1, 2, 3], id, true, title, user, reply), ct));
        reply.Content = answer;
        reply.Status = ChatStatus.Done;
        reply.CompletedAt = at;
        reply.LastSeq = 3;
        await store.CompleteAsync(id, reply, [], ct);
        return id;
    }
}
