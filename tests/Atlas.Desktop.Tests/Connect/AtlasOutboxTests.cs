using Atlas.Client.Offline;
using Atlas.Client.Protocol;
using Atlas.Desktop.Tests.Chat;

namespace Atlas.Desktop.Tests.Connect;

/// <summary>The outbox of Atlas.Client against a real desktop: exactly-once delivery through request ids.</summary>
public sealed class AtlasOutboxTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "atob-" + Guid.NewGuid().ToString("N")[..10]);
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

    private static async Task<List<OutboxDelivery>> FlushAllAsync(AtlasOutbox outbox, Phone phone)
    {
        var all = new List<OutboxDelivery>();
        await foreach (var delivery in outbox.FlushAsync(phone.Chat, Ct))
        {
            all.Add(delivery);
        }

        return all;
    }

    [Fact]
    public async Task Flush_CrashAfterSendBeforeRemoval_ModelAskedOnce()
    {
        await using var chat = await ChatHost.StartAsync();
        var phone = await chat.PhoneAsync();
        using var outbox = new AtlasOutbox(_store);
        var item = await outbox.EnqueueAsync(ChatHost.Message("only once"), cancellationToken: Ct);

        // A client that sent the item and died before removing it from the outbox.
        var firstRun = await ChatHost.AllAsync(phone.Chat.SendAsync(item.Message, item.RequestId, Ct));
        var flushed = await FlushAllAsync(outbox, phone);

        Assert.Equal("Echo: only once", ChatHost.Text(firstRun));
        Assert.All(flushed, d => Assert.Equal(item.RequestId, d.Item.RequestId));
        Assert.True(ChatEventKinds.IsTerminal(flushed[^1].Event.Kind, flushed[^1].Event.Status));
        Assert.Equal(firstRun[0].MessageId, flushed[0].Event.MessageId);
        Assert.Equal(1, chat.Fake.CompletionCount);
        Assert.Empty(await outbox.PendingAsync(Ct));
        Assert.Empty(await FlushAllAsync(outbox, phone));
    }

    [Fact]
    public async Task Flush_NewConversationWrittenOffline_FollowUpJoinsIt()
    {
        await using var chat = await ChatHost.StartAsync();
        var phone = await chat.PhoneAsync();
        using var outbox = new AtlasOutbox(_store);
        await outbox.EnqueueAsync(ChatHost.Message("first"), cancellationToken: Ct);
        await outbox.EnqueueAsync(ChatHost.Message("second"), continuesPrevious: true, Ct);

        var flushed = await FlushAllAsync(outbox, phone);

        var starts = flushed.Where(d => d.Event.Kind == ChatEventKinds.Start).ToList();
        Assert.Equal(2, starts.Count);
        Assert.NotNull(starts[0].Event.ConversationId);
        Assert.Equal(starts[0].Event.ConversationId, starts[1].Event.ConversationId);
        Assert.Equal(2, chat.Fake.Requests[1].Messages.Count(m => (string?)m?["role"] == "user"));
        var conversations = await phone.Chat.ListConversationsAsync(Ct);
        Assert.Single(conversations);
    }

    /// <summary>Regression (trial F4): the new conversation's id lived only in the flush, so a flush stopped after the
    /// first message was taken (Ctrl+C in atlas connect, a crash, a desktop gone again) sent the follow-up written with it
    /// into a second conversation on the next flush.</summary>
    [Fact]
    public async Task Flush_StoppedAfterTheFirstOfANewConversation_FollowUpStillJoinsIt()
    {
        await using var chat = await ChatHost.StartAsync();
        var phone = await chat.PhoneAsync();
        using var outbox = new AtlasOutbox(_store);
        await outbox.EnqueueAsync(ChatHost.Message("first"), cancellationToken: Ct);
        await outbox.EnqueueAsync(ChatHost.Message("second"), continuesPrevious: true, Ct);

        string? conversation = null;
        await foreach (var delivery in outbox.FlushAsync(phone.Chat, Ct))
        {
            conversation = delivery.Event.ConversationId;
            break; // the first event: the desktop took "first"; the reader stops here
        }

        var rest = await FlushAllAsync(outbox, phone);

        Assert.NotNull(conversation);
        Assert.Equal(conversation, rest.First(d => d.Event.Kind == ChatEventKinds.Start).Event.ConversationId);
        Assert.Single(await phone.Chat.ListConversationsAsync(Ct));
        Assert.Empty(await outbox.PendingAsync(Ct));
    }

    [Fact]
    public async Task Flush_MessageRefusedForGood_LeavesOutboxWithError()
    {
        await using var chat = await ChatHost.StartAsync();
        var phone = await chat.PhoneAsync();
        using var outbox = new AtlasOutbox(_store);
        await outbox.EnqueueAsync(new ChatMessageRequest { Text = "to a ghost", ConversationId = "cnv_doesnotexist" }, cancellationToken: Ct);
        await outbox.EnqueueAsync(ChatHost.Message("fine"), cancellationToken: Ct);

        var flushed = await FlushAllAsync(outbox, phone);

        Assert.Equal(ChatEventKinds.Error, flushed[0].Event.Kind);
        Assert.Equal("Echo: fine", ChatHost.Text(flushed.Select(d => d.Event)));
        Assert.Empty(await outbox.PendingAsync(Ct));
    }
}
