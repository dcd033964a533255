using System.Net.WebSockets;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Generations;
using Atlas.Desktop.Tests.Infrastructure;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Realtime;

/// <summary>Exactly-once and ordering after a reconnect, seen by a strict raw-WebSocket client that follows the
/// documented rule (apply a message's events in <c>seq</c> order, drop <c>seq</c> ≤ what it has) and takes its time
/// before it resumes: while it waits, the provider goes on and the desktop must not push that message's events at it.</summary>
public sealed class ResumeOrderingTests
{
    private const int Deltas = 20;

    // start = seq 1, deltas = seq 2 … 21, done = seq 22; the gates hold the provider after seq 6, 11 and 16.
    private const long LastSeq = Deltas + 2;

    /// <summary>Before: a socket that connected mid-answer got the answer's broadcast frames (no <c>re</c>) before its
    /// <c>resume</c> was handled; they overtook the replay, so a client following the rule applied seq 12 after 6 and
    /// then dropped the replayed 7–11 (lost text), and a resumed socket could get <c>done</c> twice.</summary>
    [Fact]
    [Trait("Hardening", "10")]
    public async Task Resume_NewSocketPausesWhileTheAnswerGoesOn_StrictClientGetsEverySeqOnceInOrderAndOneDone()
    {
        await using var chat = await StartAsync();
        var (deviceId, token) = await chat.Host.ProvisionAsync("strict phone");
        var script = new Script();
        chat.Fake.Enqueue(script.Reply());

        var (first, _) = await chat.Host.ConnectRawAsync(token);
        await Send(first, MessageTypes.ChatMessage, "m-1", """{"text":"count to twenty"}""");
        var client = new StrictClient();
        await script.Reached[0].Task.WaitAsync(TestTimeouts.Default, Ct);
        while (client.Have < 6)
        {
            client.Receive(await NextChatAsync(first));
        }

        first.Abort(); // the phone vanishes right there
        var generation = chat.Host.Get<GenerationManager>().Find(deviceId, client.MessageId!)!;
        script.Gates[0].SetResult();
        await PublishedAsync(generation, 11); // the answer goes on with no socket of the device

        var (second, _) = await chat.Host.ConnectRawAsync(token);
        script.Gates[1].SetResult();
        await PublishedAsync(generation, 16); // …and goes on while the new socket has not resumed yet

        await Send(second, MessageTypes.Resume, "r-1", $$"""{"messageId":"{{client.MessageId}}","lastSeq":{{client.Have}}}""");
        script.Gates[2].SetResult();
        await client.ReadUntilEndAsync(second, "r-1");
        await client.DrainAsync(second);

        Assert.Equal(Enumerable.Range(1, (int)LastSeq).Select(i => (long)i), client.Wire);
        Assert.Equal(1, client.Terminals);
        Assert.Equal(Script.Text, client.Content);
        Assert.Equal(1, chat.Fake.CompletionCount);
    }

    /// <summary>Before: a socket that followed an answer by broadcast and then resumed it could get <c>done</c> twice
    /// (its resume stream ended and detached before the broadcast of <c>done</c> looked at it).</summary>
    [Fact]
    [Trait("Hardening", "10")]
    public async Task Resume_BySocketThatFollowedTheBroadcast_GetsEachEventOnceAndOneDone()
    {
        await using var chat = await StartAsync();
        var (deviceId, token) = await chat.Host.ProvisionAsync("strict phone");
        var script = new Script();
        chat.Fake.Enqueue(script.Reply());
        var (watcher, _) = await chat.Host.ConnectRawAsync(token); // open before the message is sent
        var (sender, _) = await chat.Host.ConnectRawAsync(token);

        await Send(sender, MessageTypes.ChatMessage, "m-1", """{"text":"count to twenty"}""");
        await script.Reached[0].Task.WaitAsync(TestTimeouts.Default, Ct);
        var client = new StrictClient();
        while (client.Have < 6)
        {
            var frame = await NextChatAsync(watcher);
            Assert.Null(frame.Re); // the broadcast, from the start event on
            client.Receive(frame);
        }

        var generation = chat.Host.Get<GenerationManager>().Find(deviceId, client.MessageId!)!;
        script.Gates[0].SetResult();
        await PublishedAsync(generation, 11); // the broadcast goes on meanwhile
        await Send(watcher, MessageTypes.Resume, "r-1", $$"""{"messageId":"{{client.MessageId}}","lastSeq":6}""");

        // The answer goes on only once the resume is being answered (its first frame: the replay from 7): resumed
        // after the end, a request rightly ends with its own terminal event after the broadcast's, which is not the
        // case under test (a resumed socket that follows the rest of the answer gets done once).
        while (true)
        {
            var frame = await NextChatAsync(watcher);
            client.Receive(frame);
            if (frame.Re == "r-1")
            {
                break;
            }
        }

        script.Gates[1].SetResult();
        script.Gates[2].SetResult();
        await client.ReadUntilEndAsync(watcher, "r-1");
        await client.DrainAsync(watcher);

        // Events the broadcast had already queued can come again from the resume (it asked from 6); the rule drops them.
        Assert.Equal(Enumerable.Range(1, (int)LastSeq).Select(i => (long)i), client.Wire.Distinct());
        Assert.Equal(1, client.Terminals);
        Assert.Equal(Script.Text, client.Content);
    }

    /// <summary>Before: after a drop right after Send, the new socket got broadcast frames of the answer before the
    /// resent <c>chat_message</c> attached it, so a client following the rule showed a few tokens out of many and a
    /// "done" answer.</summary>
    [Fact]
    [Trait("Hardening", "10")]
    public async Task Send_ResentOnANewSocketAfterADropRightAfterSend_StrictClientGetsTheWholeAnswerOnce()
    {
        await using var chat = await StartAsync();
        var (deviceId, token) = await chat.Host.ProvisionAsync("strict phone");
        var script = new Script();
        chat.Fake.Enqueue(script.Reply());
        const string Body = """{"text":"count to twenty"}""";

        var (first, _) = await chat.Host.ConnectRawAsync(token);
        await Send(first, MessageTypes.ChatMessage, "m-1", Body);
        await script.Reached[0].Task.WaitAsync(TestTimeouts.Default, Ct);
        first.Abort(); // dropped right after Send: the phone saw nothing of the answer
        var generation = chat.Host.Get<GenerationManager>().FindByRequest(deviceId, "m-1")!;
        script.Gates[0].SetResult();
        await PublishedAsync(generation, 11);

        var (second, _) = await chat.Host.ConnectRawAsync(token);
        script.Gates[1].SetResult();
        await PublishedAsync(generation, 16); // the outbox has not resent the message yet

        await Send(second, MessageTypes.ChatMessage, "m-1", Body); // same id, same body
        script.Gates[2].SetResult();
        var client = new StrictClient();
        await client.ReadUntilEndAsync(second, "m-1");
        await client.DrainAsync(second);

        Assert.Equal(Enumerable.Range(1, (int)LastSeq).Select(i => (long)i), client.Wire);
        Assert.Equal(1, client.Starts);
        Assert.Equal(1, client.Terminals);
        Assert.Equal(Script.Text, client.Content);
        Assert.Equal(1, chat.Fake.CompletionCount);
    }

    /// <summary>Before: <c>resume</c> at the last seq of a finished answer got no frame at all, so a client waiting for
    /// the end of the answer waited forever.</summary>
    [Fact]
    [Trait("Hardening", "10")]
    public async Task Resume_AtTheLastSeqOfAFinishedAnswer_AnswersWithTheTerminalEvent()
    {
        await using var chat = await StartAsync();
        var (_, token) = await chat.Host.ProvisionAsync("strict phone");
        chat.Fake.Enqueue(FakeReply.Text("all of it", pieces: 3));
        var (socket, _) = await chat.Host.ConnectRawAsync(token);
        await Send(socket, MessageTypes.ChatMessage, "m-1", """{"text":"hi"}""");
        var client = new StrictClient();
        await client.ReadUntilEndAsync(socket, "m-1");

        await Send(socket, MessageTypes.Resume, "r-1", $$"""{"messageId":"{{client.MessageId}}","lastSeq":{{client.Have}}}""");
        await Send(socket, MessageTypes.Ping, "p-1", "null");
        var answer = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.ChatResponse, MessageTypes.Pong, MessageTypes.Error);

        Assert.Equal((MessageTypes.ChatResponse, "r-1"), (answer!.Type, answer.Re)); // before: the pong came first, nothing else
        var terminal = answer.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent)!;
        Assert.Equal((ChatEventKinds.Done, client.Have, client.MessageId), (terminal.Kind, terminal.Seq, terminal.MessageId));
        Assert.Equal(MessageTypes.Pong, (await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.ChatResponse, MessageTypes.Pong))!.Type);
    }

    private static Task Send(WebSocket socket, string type, string id, string data) =>
        AtlasTestHost.SendAsync(socket, new AtlasEnvelope { Type = type, Id = id, Data = Json(data) });

    private static async Task<AtlasEnvelope> NextChatAsync(WebSocket socket)
    {
        var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.ChatResponse, MessageTypes.Error);
        Assert.NotNull(frame);
        Assert.True(frame.Type == MessageTypes.ChatResponse, frame.Error?.Code + ": " + frame.Error?.Message);
        return frame;
    }

    /// <summary>Waits until the desktop has numbered and published the answer's events up to <paramref name="seq"/>
    /// (a reader on the desktop side, not attached to any socket).</summary>
    private static async Task PublishedAsync(Generation generation, long seq)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Default);
        await foreach (var element in generation.ReadAsync(0, null, timeout.Token))
        {
            if (element.GetProperty("seq").GetInt64() >= seq)
            {
                return;
            }
        }
    }

    /// <summary>The provider's reply: 20 deltas, held after the 5th, 10th and 15th until the test opens the gate.</summary>
    private sealed class Script
    {
        public static readonly string Text = string.Concat(Enumerable.Range(0, Deltas).Select(i => $"t{i} "));

        public TaskCompletionSource[] Reached { get; } = [new(), new(), new()];

        public TaskCompletionSource[] Gates { get; } = [new(), new(), new()];

        public FakeReply Reply()
        {
            var reply = FakeReply.Stream().Comment().Role();
            for (var i = 0; i < Deltas; i++)
            {
                if (i > 0 && i % 5 == 0)
                {
                    reply.Signal(Reached[(i / 5) - 1]).Gate(Gates[(i / 5) - 1]).Comment();
                }

                reply.Delta($"t{i} ");
            }

            return reply.Finish("stop").Usage(10, Deltas, 0.0002m).Done();
        }
    }

    /// <summary>A client that follows the documented rule: per message, events with seq ≤ what it has are dropped, a
    /// snapshot replaces the text; everything that arrives is recorded (the wire), so repeats and gaps show.</summary>
    private sealed class StrictClient
    {
        public string? MessageId { get; private set; }

        public long Have { get; private set; }

        public List<long> Wire { get; } = [];

        public int Starts { get; private set; }

        public int Terminals { get; private set; }

        public string Content { get; private set; } = "";

        public void Receive(AtlasEnvelope frame)
        {
            var e = frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent)!;
            MessageId ??= e.MessageId;
            Assert.Equal(MessageId, e.MessageId);
            Wire.Add(e.Seq);
            Starts += e.Kind == ChatEventKinds.Start ? 1 : 0;
            Terminals += ChatEventKinds.IsTerminal(e.Kind, e.Status) ? 1 : 0;
            if (e.Kind == ChatEventKinds.Snapshot)
            {
                Content = e.Content ?? "";
                Have = e.Seq;
                return;
            }

            if (e.Seq <= Have)
            {
                return;
            }

            Have = e.Seq;
            if (e.Kind == ChatEventKinds.Delta)
            {
                Content += e.Delta;
            }
        }

        /// <summary>Reads until the request <paramref name="re"/> ends (its terminal event).</summary>
        public async Task ReadUntilEndAsync(WebSocket socket, string re)
        {
            while (true)
            {
                var frame = await NextChatAsync(socket);
                Receive(frame);
                var e = frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent)!;
                if (frame.Re == re && ChatEventKinds.IsTerminal(e.Kind, e.Status))
                {
                    return;
                }
            }
        }

        /// <summary>A ping's pong is a barrier: every frame the desktop queued before it arrives first.</summary>
        public async Task DrainAsync(WebSocket socket)
        {
            await Send(socket, MessageTypes.Ping, "barrier", "null");
            while (true)
            {
                var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.ChatResponse, MessageTypes.Pong);
                Assert.NotNull(frame);
                if (frame.Type == MessageTypes.Pong)
                {
                    return;
                }

                Receive(frame);
            }
        }
    }
}
