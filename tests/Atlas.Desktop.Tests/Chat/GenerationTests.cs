using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Conversations;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Tests.Infrastructure;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>Generations belong to the desktop: disconnects and resumes (WebSocket and SSE), duplicate sends, cancel
/// versus disconnect, and a desktop restart in the middle of an answer.</summary>
public sealed class GenerationTests
{
    private static async Task<ChatEvent> ReadEventAsync(WebSocket socket)
    {
        var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.ChatResponse, MessageTypes.Error);
        Assert.NotNull(frame);
        Assert.True(frame.Type == MessageTypes.ChatResponse, frame.Error?.Code + ": " + frame.Error?.Message);
        return frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent)!;
    }

    private static async Task<List<ChatEvent>> ReadUntilTerminalAsync(WebSocket socket)
    {
        var events = new List<ChatEvent>();
        do
        {
            events.Add(await ReadEventAsync(socket));
        }
        while (!ChatEventKinds.IsTerminal(events[^1].Kind, events[^1].Status));
        return events;
    }

    private static Task SendAsync(WebSocket socket, string type, string id, string data) =>
        AtlasTestHost.SendAsync(socket, new AtlasEnvelope { Type = type, Id = id, Data = Json(data) });

    [Fact]
    public async Task Resume_AfterTheSocketDropsMidStream_ReplaysExactlyTheMissingEvents()
    {
        await using var chat = await StartAsync();
        var (deviceId, token) = await chat.Host.ProvisionAsync("raw phone");
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(Gated(reached, gate));

        var (first, _) = await chat.Host.ConnectRawAsync(token);
        await SendAsync(first, MessageTypes.ChatMessage, "m-1", """{"text":"count to ten"}""");
        var seen = new List<ChatEvent>();
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        while (seen.Count < 6)
        {
            seen.Add(await ReadEventAsync(first)); // start + 5 deltas, all sent before the gate
        }

        first.Abort(); // the phone vanishes (backgrounded, network switch)
        var request = chat.Fake.Requests[0];
        gate.SetResult(); // the provider goes on; the desktop keeps the rest
        var messageId = seen[0].MessageId;
        await WaitForStatusAsync(chat, deviceId, messageId, ChatStatus.Done);
        Assert.False(request.WasAborted);

        var (second, _) = await chat.Host.ConnectRawAsync(token);
        await SendAsync(second, MessageTypes.Resume, "r-1", $$"""{"messageId":"{{messageId}}","lastSeq":{{seen[^1].Seq}}}""");
        var rest = await ReadUntilTerminalAsync(second);

        var all = seen.Concat(rest).ToList();
        AssertContiguous(all);
        Assert.Equal(GatedText(), Text(all));
        Assert.Equal(ChatEventKinds.Done, all[^1].Kind);
        Assert.Equal(1, chat.Fake.CompletionCount);
    }

    [Fact]
    public async Task Resume_WithLastSeqBeyondTheEnd_OrAnotherDevicesMessage_IsRefused()
    {
        await using var chat = await StartAsync();
        var owner = await chat.PhoneAsync("owner");
        var other = await chat.PhoneAsync("other");
        var events = await AllAsync(owner.Chat.SendAsync(Message("mine"), cancellationToken: Ct));
        var messageId = events[0].MessageId;

        var beyond = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(owner.Chat.ResumeAsync(messageId, events[^1].Seq + 5, Ct)));
        Assert.Equal(ErrorCodes.BadRequest, beyond.Code);
        var foreign = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(other.Chat.ResumeAsync(messageId, 0, Ct)));
        Assert.Equal(ErrorCodes.NotFound, foreign.Code);
        var cancel = await Assert.ThrowsAsync<AtlasException>(() => other.Chat.CancelAsync(messageId, Ct));
        Assert.Equal(ErrorCodes.NotFound, cancel.Code);

        var replay = await AllAsync(owner.Chat.ResumeAsync(messageId, 2, Ct));
        Assert.Equal(events.Skip(2).Select(e => e.Seq), replay.Select(e => e.Seq));
    }

    [Fact]
    public async Task Client_WhenTheConnectionDropsMidStream_ResumesByItself_WithoutGapsOrRepeats()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(Gated(reached, gate, count: 20));

        var events = new List<ChatEvent>();
        await foreach (var e in phone.Chat.SendAsync(Message("long answer"), cancellationToken: Ct))
        {
            events.Add(e);
            if (events.Count == 3)
            {
                await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
                foreach (var connection in chat.Host.Get<ConnectionRegistry>().Snapshot(phone.DeviceId))
                {
                    connection.Abort(); // the desktop side of the socket dies
                }

                gate.SetResult();
            }
        }

        Assert.True(phone.Connection.Reconnects >= 1);
        AssertContiguous(events);
        Assert.Equal(GatedText(20), Text(events));
        Assert.Equal(1, chat.Fake.CompletionCount);
    }

    [Fact]
    public async Task Sse_AfterTheRequestDrops_ResumesWithLastEventId_OnTheStreamRouteAndByRepeatingThePost()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(Gated(reached, gate));

        List<(long Id, AtlasEnvelope Frame)> head;
        using (var response = await chat.PostMessageAsync(phone.Client, "sse-1", """{"text":"over sse"}"""))
        {
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            head = await ReadSseAsync(response, take: 4);
        } // the HTTP request is dropped here

        var messageId = head[0].Frame.Data!.Value.GetProperty("messageId").GetString()!;
        Assert.Equal([1L, 2, 3, 4], head.Select(h => h.Id));
        Assert.All(head, h => Assert.Equal("sse-1", h.Frame.Re));
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        gate.SetResult();

        using var stream = new HttpRequestMessage(HttpMethod.Get, $"chat/stream/{messageId}");
        stream.Headers.Add("Last-Event-ID", "4");
        using var resumed = await phone.Client.SendAsync(stream, Ct);
        var tail = await ReadSseAsync(resumed);
        Assert.Equal(Enumerable.Range(5, tail.Count).Select(i => (long)i), tail.Select(t => t.Id));
        var all = head.Concat(tail).Select(h => h.Frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent)!).ToList();
        Assert.Equal(GatedText(), Text(all));

        using var again = await chat.PostMessageAsync(phone.Client, "sse-1", """{"text":"over sse"}""", lastEventId: 8);
        var fromPost = await ReadSseAsync(again);
        Assert.Equal(tail.Where(t => t.Id > 8).Select(t => t.Id), fromPost.Select(t => t.Id));
        Assert.Equal(1, chat.Fake.CompletionCount);
    }

    [Fact]
    public async Task Send_WithARepeatedRequestId_AttachesToTheFirstGeneration_AndNeverBillsTwice()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(Gated(reached, gate));

        var first = AllAsync(phone.Chat.SendAsync(Message("once"), "dup-1", Ct));
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        var (_, token) = await chat.Host.ProvisionAsync("unused"); // unrelated device: ids are per device
        using var rest = await chat.PostMessageAsync(phone.Client, "dup-1", """{"text":"once"}""");
        var restHead = ReadSseAsync(rest);
        gate.SetResult();

        var a = await first;
        var b = (await restHead).Select(h => h.Frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent)!).ToList();
        Assert.Equal(a.Select(e => e.Seq), b.Select(e => e.Seq));
        Assert.Equal(Text(a), Text(b));
        Assert.Equal(1, chat.Fake.CompletionCount);

        var later = await AllAsync(phone.Chat.SendAsync(Message("once"), "dup-1", Ct)); // after it finished
        Assert.Equal(Text(a), Text(later));
        Assert.Equal(1, chat.Fake.CompletionCount);

        var conflict = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(phone.Chat.SendAsync(Message("something else"), "dup-1", Ct)));
        Assert.Equal(ErrorCodes.DuplicateRequest, conflict.Code);
        Assert.Single(await phone.Chat.ListConversationsAsync(Ct));
        Assert.NotNull(token);
    }

    [Fact]
    public async Task Send_RacingTheSameRequestIdOverSocketAndRest_StartsOneGeneration()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var sessions = new List<Atlas.Client.Chat.AtlasChat> { phone.Chat };
        for (var i = 0; i < 2; i++)
        {
            sessions.Add(new Atlas.Client.Chat.AtlasChat(await phone.Client.ConnectAsync(Ct))); // more sessions of the same device
        }

        var socket = sessions.Select(session => AllAsync(session.SendAsync(Message("race"), "race-1", Ct))).ToList();
        var rest = Enumerable.Range(0, 4).Select(async _ =>
        {
            using var response = await chat.PostMessageAsync(phone.Client, "race-1", """{"text":"race"}""");
            return await ReadSseAsync(response);
        }).ToList();
        await Task.WhenAll(socket);
        await Task.WhenAll(rest);

        Assert.Equal(1, chat.Fake.CompletionCount);
        Assert.Single(socket.Select(s => s.Result[0].MessageId).Concat(rest.Select(r => r.Result[0].Frame.Data!.Value.GetProperty("messageId").GetString()!)).Distinct());
    }

    [Fact]
    public async Task Cancel_StopsTheGeneration_AndClosesTheUpstreamRequest()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var reached = new TaskCompletionSource();
        chat.Fake.Enqueue(Gated(reached, new TaskCompletionSource())); // the gate never opens

        var events = new List<ChatEvent>();
        await foreach (var e in phone.Chat.SendAsync(Message("stop me"), cancellationToken: Ct))
        {
            events.Add(e);
            if (events.Count == 6)
            {
                await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
                var ack = await phone.Chat.CancelAsync(e.MessageId, Ct);
                Assert.Equal(ChatStatus.Cancelled, ack.Status);
            }
        }

        Assert.Equal(ChatEventKinds.Cancelled, events[^1].Kind);
        await chat.Fake.Requests[0].Aborted.WaitAsync(TestTimeouts.Default, Ct);
        var stored = await chat.Host.Get<IConversationStore>().GetMessageAsync(phone.DeviceId, events[0].MessageId, Ct);
        Assert.Equal((ChatStatus.Cancelled, GatedText(5)), (stored!.Message.Status, stored.Message.Content));
        Assert.Equal(ChatStatus.Cancelled, (await phone.Chat.CancelAsync(events[0].MessageId, Ct)).Status); // idempotent
    }

    [Fact]
    public async Task Disconnect_DoesNotStopTheGeneration_NorCloseTheUpstreamRequest()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(Gated(reached, gate));

        string? messageId = null;
        using (var reading = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (var e in phone.Chat.SendAsync(Message("keep going"), cancellationToken: reading.Token))
                {
                    messageId ??= e.MessageId;
                    await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
                    await reading.CancelAsync(); // the app stops reading
                }
            });
        }

        await phone.Connection.DisposeAsync(); // and the socket closes
        gate.SetResult();
        await WaitForStatusAsync(chat, phone.DeviceId, messageId!, ChatStatus.Done);
        Assert.False(chat.Fake.Requests[0].WasAborted);
        var stored = await chat.Host.Get<IConversationStore>().GetMessageAsync(phone.DeviceId, messageId!, Ct);
        Assert.Equal(GatedText(), stored!.Message.Content);
    }

    [Fact]
    public async Task Restart_MidGeneration_LeavesAnInterruptedRecord_AndNeverRunsTheMessageAgain()
    {
        var port = FreePort();
        var settings = new Dictionary<string, string?> { ["Atlas:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        await using var chat = await StartAsync(settings);
        var client = await chat.Host.PairClientAsync();
        var reached = new TaskCompletionSource();
        chat.Fake.Enqueue(Gated(reached, new TaskCompletionSource()));

        var seen = new List<ChatEvent>();
        await using (var connection = await client.ConnectAsync(Ct))
        {
            var api = new Atlas.Client.Chat.AtlasChat(connection);
            await using var events = api.SendAsync(Message("survive a restart"), "restart-1", Ct).GetAsyncEnumerator(Ct);
            while (seen.Count < 6 && await events.MoveNextAsync())
            {
                seen.Add(events.Current);
            }

            await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
            await chat.RestartAsync(settings); // graceful stop: the generation is interrupted and saved
        }

        await chat.Fake.Requests[0].Aborted.WaitAsync(TestTimeouts.Default, Ct);
        var messageId = seen[0].MessageId;
        var stored = await chat.Host.Get<IConversationStore>().GetMessageAsync(client.Credentials.DeviceId, messageId, Ct);
        Assert.Equal((ChatStatus.Interrupted, GatedText(5), ErrorCodes.Interrupted),
            (stored!.Message.Status, stored.Message.Content, stored.Message.Error!.Code));

        client.InvalidateSession();
        await using var after = await client.ConnectAsync(Ct);
        var chatAfter = new Atlas.Client.Chat.AtlasChat(after);
        var snapshot = Assert.Single(await AllAsync(chatAfter.ResumeAsync(messageId, seen[^1].Seq, Ct)));
        Assert.Equal((ChatEventKinds.Snapshot, ChatStatus.Interrupted, GatedText(5)), (snapshot.Kind, snapshot.Status, snapshot.Content));

        var resent = await AllAsync(chatAfter.SendAsync(Message("survive a restart"), "restart-1", Ct));
        Assert.Equal((ChatEventKinds.Snapshot, messageId), (Assert.Single(resent).Kind, resent[0].MessageId));
        Assert.Equal(1, chat.Fake.CompletionCount);
    }

    [Fact]
    public async Task Startup_MarksWhatACrashLeftStreamingAsInterrupted()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var store = chat.Host.Get<IConversationStore>();
        var now = DateTimeOffset.UtcNow;
        var user = new ChatMessageView { Id = "msg_u", Role = "user", Content = "q", Status = ChatStatus.Done, CreatedAt = now, RequestId = "crash-1" };
        var assistant = new ChatMessageView { Id = "msg_a", Role = "assistant", Content = "", Status = ChatStatus.Streaming, CreatedAt = now, Model = "m" };
        Assert.True(await store.StartTurnAsync(new NewTurn(phone.DeviceId, "crash-1", [1, 2, 3], "cnv_crash", true, "t", user, assistant), Ct));
        await store.CheckpointAsync("msg_a", "half an answ", [], 7, Ct);

        await chat.RestartAsync(new Dictionary<string, string?>()); // the same database, as after kill -9

        var stored = await chat.Host.Get<IConversationStore>().GetMessageAsync(phone.DeviceId, "msg_a", Ct);
        Assert.Equal((ChatStatus.Interrupted, "half an answ", 7L), (stored!.Message.Status, stored.Message.Content, stored.Message.LastSeq));
    }

    private static async Task WaitForStatusAsync(ChatHost chat, string deviceId, string messageId, string status)
    {
        // The generation's own completion signal, not a poll: wait for the terminal state through a resume stream.
        await using var reader = chat.Host.Get<Atlas.Desktop.Chat.Generations.GenerationManager>()
            .Find(deviceId, messageId)!.ReadAsync(0, null, Ct).GetAsyncEnumerator(Ct);
        while (await reader.MoveNextAsync())
        {
        }

        var generation = chat.Host.Get<Atlas.Desktop.Chat.Generations.GenerationManager>().Find(deviceId, messageId)!;
        await generation.Finished.WaitAsync(TestTimeouts.Default, Ct);
        Assert.Equal(status, generation.Status);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
