using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>Conversations per device: history sent to the model within the budget, list/load/rename/delete over the
/// socket and REST, isolation between devices, and every live session of a device seeing what another one does.</summary>
public sealed class ConversationTests
{
    [Fact]
    public async Task SecondMessage_SendsTheHistory_AndTheConfiguredSystemPrompt()
    {
        await using var chat = await StartAsync(new Dictionary<string, string?> { ["Atlas:Chat:SystemPrompt"] = "You are a test pirate." });
        var phone = await chat.PhoneAsync();
        var first = await AllAsync(phone.Chat.SendAsync(Message("first question"), cancellationToken: Ct));
        var conversation = first[0].ConversationId!;
        await AllAsync(phone.Chat.SendAsync(Message("second question", conversation), cancellationToken: Ct));

        var messages = chat.Fake.Requests[1].Messages;
        Assert.Equal(["system", "user", "assistant", "user"], messages.Select(m => (string?)m!["role"]));
        Assert.Equal("You are a test pirate.", (string?)messages[0]!["content"]);
        Assert.Equal("Echo: first question", FakeRequest.Text(messages[2]));
        Assert.Equal("second question", FakeRequest.Text(messages[3]));
    }

    [Fact]
    public async Task MessageSentWhileTheLastAnswerStreams_WaitsForIt_AndItsPromptHoldsThatAnswer()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(FakeReply.Stream().Role().Delta("first half, ").Signal(reached).Gate(gate).Delta("second half").Finish("stop").Done());

        await using var first = phone.Chat.SendAsync(Message("a long question"), cancellationToken: Ct).GetAsyncEnumerator(Ct);
        Assert.True(await first.MoveNextAsync());
        var conversation = first.Current.ConversationId!;
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        await using var second = phone.Chat.SendAsync(Message("and a follow-up", conversation), cancellationToken: Ct).GetAsyncEnumerator(Ct);
        Assert.True(await second.MoveNextAsync()); // taken (its start event) while the first answer still streams
        Assert.Equal(ChatEventKinds.Start, second.Current.Kind);
        Assert.Single(chat.Fake.Requests); // but not sent to the model yet

        gate.SetResult();
        while (await first.MoveNextAsync())
        {
        }

        var rest = new List<ChatEvent>();
        while (await second.MoveNextAsync())
        {
            rest.Add(second.Current);
        }

        Assert.Equal(ChatEventKinds.Done, rest[^1].Kind);
        var messages = chat.Fake.Requests[1].Messages;
        Assert.Equal(["user", "assistant", "user"], messages.Where(m => (string?)m!["role"] != "system").Select(m => (string?)m!["role"]));
        Assert.Equal("first half, second half", FakeRequest.Text(messages[^2]));
        Assert.Equal("and a follow-up", FakeRequest.Text(messages[^1]));
    }

    [Fact]
    public async Task History_BeyondTheTokenBudget_LeavesTheOldestMessagesOut()
    {
        await using var chat = await StartAsync(new Dictionary<string, string?>
        {
            ["Atlas:Chat:HistoryTokenBudget"] = "300",
            ["Atlas:Chat:SystemPrompt"] = "",
        });
        var phone = await chat.PhoneAsync();
        string? conversation = null;
        for (var i = 0; i < 6; i++)
        {
            var events = await AllAsync(phone.Chat.SendAsync(Message($"message {i} " + new string('x', 200), conversation), cancellationToken: Ct));
            conversation = events[0].ConversationId;
        }

        var last = chat.Fake.Requests[^1].Messages;
        Assert.InRange(last.Count, 2, 5); // the newest message plus what fits, never all 11
        Assert.StartsWith("message 5", FakeRequest.Text(last[^1]), StringComparison.Ordinal);
        Assert.DoesNotContain(last, m => FakeRequest.Text(m).StartsWith("message 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Conversations_CanBeListedLoadedRenamedAndDeleted_OverTheSocketAndRest()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var a = (await AllAsync(phone.Chat.SendAsync(Message("Plan a trip to Lisbon\nwith details"), cancellationToken: Ct)))[0].ConversationId!;
        var b = (await AllAsync(phone.Chat.SendAsync(Message("Second topic"), cancellationToken: Ct)))[0].ConversationId!;

        var list = await phone.Chat.ListConversationsAsync(Ct);
        Assert.Equal([b, a], list.Select(c => c.Id));
        Assert.Equal(("Plan a trip to Lisbon", 2), (list[1].Title, list[1].MessageCount));

        var loaded = await phone.Chat.LoadConversationAsync(a, Ct);
        Assert.Equal(["user", "assistant"], loaded.Messages!.Select(m => m.Role));
        Assert.Equal((ChatStatus.Done, "Echo: Plan a trip to Lisbon\nwith details"), (loaded.Messages![1].Status, loaded.Messages[1].Content));
        Assert.NotNull(loaded.Messages[1].Usage);

        Assert.Equal("Lisbon 2027", (await phone.Chat.RenameConversationAsync(a, "  Lisbon 2027 ", Ct)).Title);
        var badTitle = await Assert.ThrowsAsync<AtlasException>(() => phone.Chat.RenameConversationAsync(a, "", Ct));
        Assert.Equal(ErrorCodes.BadRequest, badTitle.Code);

        // Regression: a title may not carry a bidirectional control (it would reorder the line it is shown on).
        var bidiTitle = await Assert.ThrowsAsync<AtlasException>(() => phone.Chat.RenameConversationAsync(a, "trip\u202Efdp.exe", Ct));
        Assert.Equal(ErrorCodes.BadRequest, bidiTitle.Code);

        using (var response = await phone.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "chat/conversations"), Ct))
        {
            var rest = await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ConversationResponse, Ct);
            Assert.Equal("Lisbon 2027", rest!.Conversations!.Single(c => c.Id == a).Title);
        }

        using (var patch = new HttpRequestMessage(HttpMethod.Patch, $"chat/conversations/{b}") { Content = JsonContent.Create(new { title = "Renamed by REST" }) })
        using (var response = await phone.Client.SendAsync(patch, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await phone.Chat.DeleteConversationAsync(a, Ct);
        using (var response = await phone.Client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"chat/conversations/{b}"), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Empty(await phone.Chat.ListConversationsAsync(Ct));
        var gone = await Assert.ThrowsAsync<AtlasException>(() => phone.Chat.LoadConversationAsync(a, Ct));
        Assert.Equal(ErrorCodes.NotFound, gone.Code);
        using (var response = await phone.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"chat/conversations/{a}"), Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task Conversations_OfAnotherDevice_AreInvisible()
    {
        await using var chat = await StartAsync();
        var owner = await chat.PhoneAsync("owner");
        var other = await chat.PhoneAsync("other");
        var conversation = (await AllAsync(owner.Chat.SendAsync(Message("private"), cancellationToken: Ct)))[0].ConversationId!;

        Assert.Empty(await other.Chat.ListConversationsAsync(Ct));
        foreach (var attempt in new Func<Task>[]
        {
            () => other.Chat.LoadConversationAsync(conversation, Ct),
            () => other.Chat.RenameConversationAsync(conversation, "mine now", Ct),
            () => other.Chat.DeleteConversationAsync(conversation, Ct),
            () => AllAsync(other.Chat.SendAsync(Message("join in", conversation), cancellationToken: Ct)),
        })
        {
            Assert.Equal(ErrorCodes.NotFound, (await Assert.ThrowsAsync<AtlasException>(attempt)).Code);
        }

        Assert.Single(await owner.Chat.ListConversationsAsync(Ct));
    }

    [Fact]
    public async Task OtherSessionsOfTheDevice_SeeTheNewMessage_ItsStream_AndConversationChanges()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        await using var tablet = await phone.Client.ConnectAsync(Ct); // a second live session of the same device
        var watcher = new Atlas.Client.Chat.AtlasChat(tablet);
        var sent = await AllAsync(phone.Chat.SendAsync(Message("seen everywhere"), cancellationToken: Ct));
        var conversation = sent[0].ConversationId!;

        var pushed = new List<ChatEvent>();
        ConversationResponse? created = null;
        while (pushed.Count == 0 || !ChatEventKinds.IsTerminal(pushed[^1].Kind))
        {
            var frame = await watcher.Events.ReadAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct);
            Assert.Null(frame.Re);
            if (frame.Type == MessageTypes.ChatResponse)
            {
                pushed.Add(frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent)!);
            }
            else if (frame.Type == MessageTypes.ConversationResponse)
            {
                created = frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ConversationResponse);
            }
        }

        Assert.Equal(sent.Select(e => e.Seq), pushed.Select(e => e.Seq));
        Assert.Equal("seen everywhere", pushed[0].UserMessage!.Content);
        Assert.Equal(Text(sent), Text(pushed));
        Assert.Equal(("changed", conversation), (created!.Op, created.Conversation!.Id));

        await phone.Chat.RenameConversationAsync(conversation, "Renamed elsewhere", Ct);
        var renamed = await NextConversationChangeAsync(watcher);
        Assert.Equal(("changed", "Renamed elsewhere"), (renamed.Op, renamed.Conversation!.Title));
        await phone.Chat.DeleteConversationAsync(conversation, Ct);
        var deleted = await NextConversationChangeAsync(watcher);
        Assert.Equal(("deleted", conversation), (deleted.Op, deleted.ConversationId));
    }

    [Fact]
    public async Task Load_WhileAnswering_ShowsTheTextSoFarAndWhereToResumeFrom()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(FakeReply.Stream().Role().Delta("so far").Gate(gate).Delta(", and more").Finish("stop").Done());
        var all = new List<ChatEvent>();
        await using var events = phone.Chat.SendAsync(Message("slow one"), cancellationToken: Ct).GetAsyncEnumerator(Ct);
        while (all.LastOrDefault()?.Kind != ChatEventKinds.Delta && await events.MoveNextAsync())
        {
            all.Add(events.Current); // until the desktop has the first text
        }

        var conversation = (await phone.Chat.ListConversationsAsync(Ct)).Single().Id;
        var loaded = (await phone.Chat.LoadConversationAsync(conversation, Ct)).Messages![1];
        gate.SetResult();
        while (await events.MoveNextAsync())
        {
            all.Add(events.Current);
        }

        Assert.Equal(ChatStatus.Streaming, loaded.Status);
        Assert.Equal("so far", loaded.Content);
        var rest = await AllAsync(phone.Chat.ResumeAsync(loaded.Id, loaded.LastSeq!.Value, Ct));
        Assert.Equal("so far, and more", loaded.Content + Text(rest));
        Assert.Equal(all[^1].Seq, rest[^1].Seq);
    }

    private static async Task<ConversationResponse> NextConversationChangeAsync(Atlas.Client.Chat.AtlasChat watcher)
    {
        while (true)
        {
            var frame = await watcher.Events.ReadAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct);
            if (frame.Type == MessageTypes.ConversationResponse)
            {
                return frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ConversationResponse)!;
            }
        }
    }
}
