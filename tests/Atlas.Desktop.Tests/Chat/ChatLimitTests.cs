using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Tests.Infrastructure;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>Each device's LLM budget (<c>Atlas:Chat:MaxConcurrentAnswersPerDevice</c>,
/// <c>Atlas:Chat:AnswersPerMinutePerDevice</c>): one count over all its sockets and REST requests, taken before anything
/// is billed, refused with <c>rate_limited</c> and <c>retryAfter</c>; an accepted message's resend is never refused.</summary>
public sealed class ChatLimitTests
{
    private const string Body = """{"text":"hello"}""";

    /// <summary>Regression: nothing capped a device's LLM requests; 1,000 <c>chat_message</c> frames over four sockets of
    /// one device were all sent to the provider and billed.</summary>
    [Fact]
    [Trait("Hardening", "5")]
    public async Task ChatMessage_FloodOverFourSocketsOfOneDevice_BillsAtMostTheCapAndRefusesTheRestWithRetryAfter()
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var chat = await StartAsync(new Dictionary<string, string?>
        {
            // Only the chat budget is under test: the frame budget and the send queue are set out of its way.
            ["Atlas:WebSocket:MaxFramesPerSecond"] = "1000",
            ["Atlas:WebSocket:SendQueueLength"] = "8192",
        }, time: time);
        var (_, token) = await chat.Host.ProvisionAsync("flood");
        var sockets = new List<ClientWebSocket>();
        for (var i = 0; i < 4; i++)
        {
            var (socket, reply) = await chat.Host.ConnectRawAsync(token);
            Assert.Equal(MessageTypes.AuthSuccess, reply.Type);
            sockets.Add(socket);
        }

        var outcomes = await Task.WhenAll(sockets.Select((socket, s) => FloodAsync(socket, $"s{s}", 250)));

        var accepted = outcomes.Sum(o => o.Accepted);
        var refused = outcomes.SelectMany(o => o.Refused).ToList();
        Assert.Equal(1000, accepted + refused.Count);
        Assert.InRange(accepted, 1, 20);
        Assert.Equal(accepted, chat.Fake.CompletionCount);
        Assert.All(refused, e => Assert.Equal((ErrorCodes.RateLimited, true), (e.Code, e.RetryAfter is >= 1 and <= 60)));

        time.Advance(TimeSpan.FromMinutes(1)); // a new minute: the device may start answers again (here over REST)
        using var http = chat.Host.PinnedHttp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/message") { Content = new StringContent(Body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("Idempotency-Key", "late");
        using var late = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        Assert.Equal(ChatEventKinds.Done, Last(await ReadSseAsync(late)).Kind);
        Assert.Equal(accepted + 1, chat.Fake.CompletionCount);
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
    }

    /// <summary>Regression: REST <c>POST /chat/message</c> had no per-device budget either; now it shares the device's
    /// count with its sockets, answers 429 with <c>Retry-After</c>, and a resend of an accepted id still answers.</summary>
    [Fact]
    [Trait("Hardening", "5")]
    public async Task PostMessage_OverTheDevicesMinuteBudget_Answers429WithRetryAfter_ResendOfAcceptedIdAnswers_NextMinuteGoesThrough()
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var chat = await StartAsync(new Dictionary<string, string?> { ["Atlas:Chat:AnswersPerMinutePerDevice"] = "2" }, time: time);
        var phone = await chat.PhoneAsync();

        using (var first = await chat.PostMessageAsync(phone.Client, "m-1", Body))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(ChatEventKinds.Done, Last(await ReadSseAsync(first)).Kind);
        }

        Assert.Equal(ChatEventKinds.Done, (await AllAsync(phone.Chat.SendAsync(Message("over the socket"), "m-2", Ct)))[^1].Kind);

        using (var over = await chat.PostMessageAsync(phone.Client, "m-3", Body))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
            var retryAfter = over.Headers.RetryAfter?.Delta;
            Assert.InRange(retryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
            var error = JsonSerializer.Deserialize(await over.Content.ReadAsStringAsync(Ct), AtlasJsonContext.Default.ErrorResponse)!.Error;
            Assert.Equal((ErrorCodes.RateLimited, (int)retryAfter.Value.TotalSeconds), (error.Code, error.RetryAfter));
        }

        var overSocket = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(phone.Chat.SendAsync(Message("three"), "m-3", Ct)));
        Assert.Equal((ErrorCodes.RateLimited, true), (overSocket.Code, overSocket.RetryAfter >= 1));

        using (var resend = await chat.PostMessageAsync(phone.Client, "m-1", Body)) // the same message again: not a new answer
        {
            Assert.Equal(HttpStatusCode.OK, resend.StatusCode);
            var replay = Last(await ReadSseAsync(resend));
            Assert.True(ChatEventKinds.IsTerminal(replay.Kind, replay.Status));
        }

        Assert.Equal(2, chat.Fake.CompletionCount);
        time.Advance(TimeSpan.FromMinutes(1));
        using (var next = await chat.PostMessageAsync(phone.Client, "m-3", Body)) // the refused id was never recorded
        {
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
            Assert.Equal(ChatEventKinds.Done, Last(await ReadSseAsync(next)).Kind);
        }

        Assert.Equal(3, chat.Fake.CompletionCount);
    }

    /// <summary>Regression: a device could run any number of answers at once; a third is now refused while two run,
    /// and goes through once one of them has ended.</summary>
    [Fact]
    [Trait("Hardening", "5")]
    public async Task ChatMessage_MoreRunningAnswersThanTheCap_RefusedWithRateLimited_UntilOneEnds()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var (reached1, gate1, reached2, gate2) = (new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource());
        chat.Fake.Enqueue(Gated(reached1, gate1), Gated(reached2, gate2));

        var first = AllAsync(phone.Chat.SendAsync(Message("one"), "c-1", Ct));
        await reached1.Task.WaitAsync(TestTimeouts.Default, Ct);
        var second = AllAsync(phone.Chat.SendAsync(Message("two"), "c-2", Ct));
        await reached2.Task.WaitAsync(TestTimeouts.Default, Ct);

        var third = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(phone.Chat.SendAsync(Message("three"), "c-3", Ct)));
        Assert.Equal((ErrorCodes.RateLimited, 1), (third.Code, third.RetryAfter));
        using (var rest = await chat.PostMessageAsync(phone.Client, "c-4", Body))
        {
            Assert.Equal((HttpStatusCode.TooManyRequests, "1"), (rest.StatusCode, rest.Headers.GetValues("Retry-After").Single()));
        }

        Assert.Equal(2, chat.Fake.CompletionCount);
        gate1.SetResult();
        Assert.Equal(ChatEventKinds.Done, (await first)[^1].Kind);
        Assert.Equal(ChatEventKinds.Done, (await AllAsync(phone.Chat.SendAsync(Message("three"), "c-3", Ct)))[^1].Kind);
        gate2.SetResult();
        Assert.Equal(ChatEventKinds.Done, (await second)[^1].Kind);
        Assert.Equal(3, chat.Fake.CompletionCount);
    }

    private static ChatEvent Last(List<(long Id, AtlasEnvelope Frame)> events) =>
        events[^1].Frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent)!;

    /// <summary>Sends <paramref name="count"/> <c>chat_message</c> frames on a raw socket while reading, until each has its
    /// outcome: a terminal <c>chat_response</c> (accepted) or an error (refused).</summary>
    private static async Task<(int Accepted, List<AtlasError> Refused)> FloodAsync(ClientWebSocket socket, string prefix, int count)
    {
        var ids = Enumerable.Range(0, count).Select(i => $"{prefix}-{i}").ToHashSet(StringComparer.Ordinal);
        var reading = Task.Run(async () =>
        {
            var accepted = 0;
            var refused = new List<AtlasError>();
            while (accepted + refused.Count < count)
            {
                var frame = await AtlasTestHost.ReceiveAsync(socket);
                Assert.NotNull(frame);
                if (frame.Type == MessageTypes.Error)
                {
                    refused.Add(frame.Error!);
                }
                else if (frame.Type == MessageTypes.ChatResponse && frame.Re is { } re && ids.Contains(re)
                    && frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent) is { } e && ChatEventKinds.IsTerminal(e.Kind, e.Status))
                {
                    accepted++;
                }
            }

            return (accepted, refused);
        }, Ct);
        foreach (var id in ids)
        {
            await AtlasTestHost.SendAsync(socket, new AtlasEnvelope
            {
                Type = MessageTypes.ChatMessage,
                Id = id,
                Data = Json($$"""{"text":"message {{id}}"}"""),
            });
        }

        return await reading;
    }
}
