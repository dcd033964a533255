using Atlas.Client;
using Atlas.Client.Protocol;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>Edit-and-resend, regenerate and retry: a <c>chat_message</c> with <c>replaces</c> deletes that user message
/// and everything after it in the transaction that records the new turn, the model sees only what came before, and the
/// request id keeps it exactly once. A provider's 429 reaches the phone at once with its wait (no hidden retries).</summary>
public sealed class MessageActionTests
{
    private static ChatMessageRequest Replace(string text, string conversationId, string replaces) =>
        new() { Text = text, ConversationId = conversationId, Replaces = replaces };

    /// <summary>An edit of the first message drops the rest of the conversation and the model gets only the edit.</summary>
    [Fact]
    [Trait("Issue9", "actions")]
    public async Task ChatMessage_ReplacesAnEarlierUserMessage_DropsItAndEverythingAfter_ModelSeesOnlyWhatCameBefore()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var first = await AllAsync(phone.Chat.SendAsync(Message("first question"), cancellationToken: Ct));
        var conversation = first[0].ConversationId!;
        var second = await AllAsync(phone.Chat.SendAsync(Message("second question", conversation), cancellationToken: Ct));

        var edited = await AllAsync(phone.Chat.SendAsync(Replace("second question, edited", conversation, second[0].UserMessage!.Id),
            "edit-1", Ct));

        Assert.Equal((ChatEventKinds.Start, second[0].UserMessage!.Id), (edited[0].Kind, edited[0].Replaces));
        Assert.Equal("Echo: second question, edited", Text(edited));
        Assert.Equal(["user", "assistant", "user"], chat.Fake.Requests[2].Messages.Select(m => (string?)m!["role"]).Where(r => r != "system"));
        Assert.Equal("second question, edited", chat.Fake.Requests[2].LastUserText);
        var loaded = await phone.Chat.LoadConversationAsync(conversation, Ct);
        Assert.Equal(["first question", "Echo: first question", "second question, edited", "Echo: second question, edited"],
            loaded.Messages!.Select(m => m.Content));

        // Regenerate: the same text replacing the same user message gives a new answer in place of the old one.
        chat.Fake.Enqueue(FakeReply.Text("A better answer"));
        var regenerated = await AllAsync(phone.Chat.SendAsync(Replace("second question, edited", conversation, edited[0].UserMessage!.Id),
            "regen-1", Ct));
        Assert.Equal("A better answer", Text(regenerated));
        loaded = await phone.Chat.LoadConversationAsync(conversation, Ct);
        Assert.Equal(["first question", "Echo: first question", "second question, edited", "A better answer"], loaded.Messages!.Select(m => m.Content));
        Assert.Equal(4, chat.Fake.CompletionCount);
    }

    /// <summary>The same request id sent again (a reconnect) attaches to the replacing turn: nothing is deleted or asked twice.</summary>
    [Fact]
    [Trait("Issue9", "actions")]
    public async Task ChatMessage_ReplaceResentWithTheSameId_IsAnsweredOnce_AndAnUnknownOrAssistantIdIsRefusedChangingNothing()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var first = await AllAsync(phone.Chat.SendAsync(Message("question"), cancellationToken: Ct));
        var conversation = first[0].ConversationId!;
        var replace = Replace("question again", conversation, first[0].UserMessage!.Id);

        var once = await AllAsync(phone.Chat.SendAsync(replace, "retry-1", Ct));
        var again = await AllAsync(phone.Chat.SendAsync(replace, "retry-1", Ct));

        Assert.Equal(once[0].MessageId, again[^1].MessageId);
        Assert.Equal(2, chat.Fake.CompletionCount);
        var assistantId = once[0].MessageId;
        var refused = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(phone.Chat.SendAsync(Replace("x", conversation, assistantId), "bad-1", Ct)));
        Assert.Equal(ErrorCodes.NotFound, refused.Code);
        var gone = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(phone.Chat.SendAsync(Replace("x", conversation, first[0].UserMessage!.Id), "bad-2", Ct)));
        Assert.Equal(ErrorCodes.NotFound, gone.Code);
        var noConversation = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(phone.Chat.SendAsync(
            new ChatMessageRequest { Text = "x", Replaces = once[0].UserMessage!.Id }, "bad-3", Ct)));
        Assert.Equal(ErrorCodes.BadRequest, noConversation.Code);
        Assert.Equal(2, (await phone.Chat.LoadConversationAsync(conversation, Ct)).Messages!.Count);
        Assert.Equal(2, chat.Fake.CompletionCount);
    }

    /// <summary>Retrying while an answer still streams stops that answer first; the replacement then runs.</summary>
    [Fact]
    [Trait("Issue9", "actions")]
    public async Task ChatMessage_ReplaceWhileTheAnswerStreams_StopsItFirst_ThenAnswersTheReplacement()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var reached = new TaskCompletionSource();
        chat.Fake.Enqueue(Gated(reached, new TaskCompletionSource()));
        await using var running = phone.Chat.SendAsync(Message("slow question"), cancellationToken: Ct).GetAsyncEnumerator(Ct);
        Assert.True(await running.MoveNextAsync());
        var start = running.Current;
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);

        var replaced = await AllAsync(phone.Chat.SendAsync(Replace("quick question", start.ConversationId!, start.UserMessage!.Id), "r-2", Ct));

        Assert.Equal("Echo: quick question", Text(replaced));
        await chat.Fake.Requests[0].Aborted.WaitAsync(TestTimeouts.Default, Ct);
        var loaded = await phone.Chat.LoadConversationAsync(start.ConversationId!, Ct);
        Assert.Equal(["quick question", "Echo: quick question"], loaded.Messages!.Select(m => m.Content));
    }

    /// <summary>Before: a 429 with a Retry-After within MaxRetryDelay was retried inside the desktop (the phone waited
    /// without knowing, and the provider was asked again); now it is one error with its wait.</summary>
    [Fact]
    [Trait("Issue9", "ratelimit")]
    public async Task Send_ProviderAnswers429WithAShortRetryAfter_EndsAtOnceWithItsWait_WithoutAHiddenRetry()
    {
        await using var chat = await StartAsync(new Dictionary<string, string?> { ["Atlas:Llm:MaxRetries"] = "2" });
        var phone = await chat.PhoneAsync();
        chat.Fake.Enqueue(FakeReply.Error(429, "Rate limit exceeded: free-models-per-min", retryAfter: 5), FakeReply.Text("hidden retry"));

        var events = await AllAsync(phone.Chat.SendAsync(Message("hello"), cancellationToken: Ct));

        Assert.Equal([ChatEventKinds.Start, ChatEventKinds.Error], events.Select(e => e.Kind));
        Assert.Equal((ErrorCodes.LlmRateLimited, 5, true), (events[^1].Error!.Code, events[^1].Error!.RetryAfter, events[^1].Error!.Retryable));
        Assert.Equal(1, chat.Fake.CompletionCount);
    }
}
