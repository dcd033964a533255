using System.Text.Json.Nodes;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Conversations;
using Atlas.Desktop.Tests.Infrastructure;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>The provider against the fake OpenRouter's wire format and quirks (the 12-item checklist of the reference).</summary>
public sealed class ProviderTests
{
    [Fact]
    public async Task Send_StreamsNumberedDeltas_RecordsUsageAndCost_AndSendsAttributionHeaders()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        chat.Fake.Enqueue(FakeReply.Text("Hello from the fake provider!", pieces: 5, promptTokens: 40, cost: 0.00123m));

        var events = await AllAsync(phone.Chat.SendAsync(Message("Say hello"), cancellationToken: Ct));

        AssertContiguous(events);
        Assert.Equal(ChatEventKinds.Start, events[0].Kind);
        Assert.Equal("Say hello", events[0].UserMessage!.Content);
        Assert.Equal("Hello from the fake provider!", Text(events));
        var done = events[^1];
        Assert.Equal((ChatEventKinds.Done, "stop"), (done.Kind, done.FinishReason));
        Assert.Equal(40, done.Usage!.PromptTokens);
        Assert.Equal(0.00123m, done.Usage.Cost);

        var request = Assert.Single(chat.Fake.Requests);
        Assert.Equal("Bearer " + FakeOpenRouter.ApiKey, request.Headers["Authorization"]);
        Assert.Equal("https://github.com/atlas-mmcp/atlas", request.Headers["HTTP-Referer"]);
        Assert.Equal("Atlas", request.Headers["X-OpenRouter-Title"]);
        Assert.True(request.Stream);
        Assert.Equal("openai/gpt-4o-mini", request.Model);
        Assert.Equal("system", (string?)request.Messages[0]!["role"]);

        var stored = await chat.Host.Get<IConversationStore>().GetMessageAsync(phone.DeviceId, done.MessageId, Ct);
        Assert.Equal((ChatStatus.Done, "Hello from the fake provider!", 0.00123m, done.Seq),
            (stored!.Message.Status, stored.Message.Content, stored.Message.Usage!.Cost, stored.Message.LastSeq));
    }

    [Theory]
    [InlineData("\n", null)]
    [InlineData("\r\n", null)]
    [InlineData("\n", 1)]
    [InlineData("\r\n", 3)]
    [InlineData("\n", 7)]
    public async Task Send_WithCommentsCrlfAndWritesSplitInsideUtf8_ReassemblesTheExactText(string lineEnd, int? split)
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        const string Expected = "Grüße, 世界! 👋🏽 naïve café — ✓";
        var reply = FakeReply.Stream(lineEnd, split).Comment().Comment().Role();
        foreach (var piece in new[] { "Grüße, 世", "界! 👋", "🏽 naïve", " café — ✓" })
        {
            reply.Delta(piece).Comment();
        }

        chat.Fake.Enqueue(reply.Finish("stop").Comment().Usage(5, 9, 0.0001m).Done());

        var events = await AllAsync(phone.Chat.SendAsync(Message("unicode please"), cancellationToken: Ct));

        Assert.Equal(Expected, Text(events));
        Assert.Equal(ChatEventKinds.Done, events[^1].Kind);
        Assert.Equal(9, events[^1].Usage!.CompletionTokens);
    }

    [Theory]
    [InlineData(401, null, ErrorCodes.LlmAuthFailed, false)]
    [InlineData(402, null, ErrorCodes.LlmNoCredits, false)]
    [InlineData(429, 30, ErrorCodes.LlmRateLimited, true)]
    [InlineData(502, null, ErrorCodes.LlmUnavailable, true)]
    [InlineData(503, 20, ErrorCodes.LlmUnavailable, true)]
    [InlineData(400, null, ErrorCodes.LlmRejected, false)]
    [InlineData(403, null, ErrorCodes.LlmRejected, false)]
    [InlineData(408, null, ErrorCodes.LlmTimeout, true)]
    public async Task Send_WhenProviderAnswersAnErrorStatus_EndsWithItsStableCode(int status, int? retryAfter, string code, bool retryable)
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        chat.Fake.Enqueue(FakeReply.Error(status, $"fake {status} message", retryAfter));

        var events = await AllAsync(phone.Chat.SendAsync(Message("hi"), cancellationToken: Ct));

        Assert.Equal([ChatEventKinds.Start, ChatEventKinds.Error], events.Select(e => e.Kind));
        var error = events[^1].Error!;
        Assert.Equal((code, retryable, retryAfter), (error.Code, error.Retryable ?? false, error.RetryAfter));
        Assert.Contains($"fake {status} message", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeOpenRouter.ApiKey, error.Message, StringComparison.Ordinal);
        var stored = await chat.Host.Get<IConversationStore>().GetMessageAsync(phone.DeviceId, events[0].MessageId, Ct);
        Assert.Equal((ChatStatus.Error, code), (stored!.Message.Status, stored.Message.Error!.Code));
    }

    [Fact]
    public async Task Send_RetriesA503BeforeTheStream_ButNeverA402()
    {
        await using var chat = await StartAsync(new Dictionary<string, string?> { ["Atlas:Llm:MaxRetries"] = "2" });
        var phone = await chat.PhoneAsync();
        chat.Fake.Enqueue(FakeReply.Error(503, "No provider available", retryAfter: 0), FakeReply.Text("second try"));
        var first = await AllAsync(phone.Chat.SendAsync(Message("retry me"), cancellationToken: Ct));
        Assert.Equal("second try", Text(first));
        Assert.Equal(2, chat.Fake.CompletionCount);

        chat.Fake.Enqueue(FakeReply.Error(402, "Insufficient credits")); // a retry would reach the echo responder
        var second = await AllAsync(phone.Chat.SendAsync(Message("no credits"), cancellationToken: Ct));
        Assert.Equal(ErrorCodes.LlmNoCredits, second[^1].Error!.Code);
        Assert.Equal(3, chat.Fake.CompletionCount);

        chat.Fake.Enqueue(FakeReply.Error(429, "slow down", retryAfter: 3600));
        var third = await AllAsync(phone.Chat.SendAsync(Message("rate limited"), cancellationToken: Ct));
        Assert.Equal((ErrorCodes.LlmRateLimited, 3600), (third[^1].Error!.Code, third[^1].Error!.RetryAfter));
        Assert.Equal(4, chat.Fake.CompletionCount); // a long Retry-After goes to the client instead of blocking
    }

    [Theory]
    [InlineData("server_error", ErrorCodes.LlmStreamError)]
    [InlineData(502, ErrorCodes.LlmStreamError)]
    [InlineData(429, ErrorCodes.LlmRateLimited)]
    public async Task Send_WithAnErrorChunkInsideA200Stream_KeepsTheTextAndEndsWithAnError(object code, string expected)
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        JsonNode codeNode = code is int number ? JsonValue.Create(number) : JsonValue.Create((string)code);
        chat.Fake.Enqueue(FakeReply.Stream().Role().Delta("Partial ").Delta("answer").Comment().ErrorChunk(codeNode, "Provider disconnected unexpectedly").Done());

        var events = await AllAsync(phone.Chat.SendAsync(Message("break mid-way"), cancellationToken: Ct));

        Assert.Equal("Partial answer", Text(events));
        var error = events[^1].Error!;
        Assert.Equal(expected, error.Code);
        Assert.Contains("Provider disconnected unexpectedly", error.Message, StringComparison.Ordinal);
        var stored = await chat.Host.Get<IConversationStore>().GetMessageAsync(phone.DeviceId, events[0].MessageId, Ct);
        Assert.Equal((ChatStatus.Error, "Partial answer"), (stored!.Message.Status, stored.Message.Content));
    }

    [Fact]
    public async Task Send_WhenTheStreamEndsWithoutFinishReason_IsTruncatedNotComplete()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        chat.Fake.Enqueue(FakeReply.Stream().Role().Delta("The answer is cut"));

        var events = await AllAsync(phone.Chat.SendAsync(Message("truncate"), cancellationToken: Ct));

        Assert.Equal("The answer is cut", Text(events));
        Assert.Equal((ChatEventKinds.Error, ErrorCodes.LlmTruncated), (events[^1].Kind, events[^1].Error!.Code));
    }

    [Fact]
    public async Task Send_WhenTheConnectionIsResetMidStream_IsTruncatedAndKeepsTheText()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var reached = new TaskCompletionSource();
        chat.Fake.Enqueue(FakeReply.Stream().Role().Delta("Before the reset").Signal(reached).Delay(TimeSpan.FromMilliseconds(100)).Abort());

        var events = await AllAsync(phone.Chat.SendAsync(Message("reset"), cancellationToken: Ct));

        Assert.True(reached.Task.IsCompleted);
        Assert.Equal(ErrorCodes.LlmTruncated, events[^1].Error!.Code);
        Assert.Equal("Before the reset", Text(events));
    }

    [Theory]
    [InlineData("length")]
    [InlineData("content_filter")]
    public async Task Send_WithAnotherFinishReason_ReportsIt(string reason)
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        chat.Fake.Enqueue(FakeReply.Stream().Role().Delta("cut by the provider").Finish(reason).Usage(3, 4, 0m).Done());

        var events = await AllAsync(phone.Chat.SendAsync(Message("long"), cancellationToken: Ct));

        Assert.Equal((ChatEventKinds.Done, reason), (events[^1].Kind, events[^1].FinishReason));
    }

    [Fact]
    public async Task Send_WithKeepAliveCommentsDuringASlowStart_DoesNotTimeOut_ButSilenceDoes()
    {
        // The idle budget is scaled to the machine's load: keep-alive comments every quarter of it must arrive in time
        // on a busy machine too, and the silence lasts three budgets.
        var idle = TestTimeouts.Budget(TimeSpan.FromSeconds(1));
        await using var chat = await StartAsync(new Dictionary<string, string?> { ["Atlas:Llm:IdleTimeout"] = idle.ToString("c", System.Globalization.CultureInfo.InvariantCulture) });
        var phone = await chat.PhoneAsync();
        chat.Fake.Enqueue(
            FakeReply.Stream().Trickle(idle / 4, idle * 2).Role().Delta("worth the wait").Finish("stop").Done(),
            FakeReply.Stream().Role().Delta("then silence").Delay(idle * 3).Delta("never").Finish("stop").Done());

        var slow = await AllAsync(phone.Chat.SendAsync(Message("slow"), cancellationToken: Ct));
        Assert.Equal(("worth the wait", ChatEventKinds.Done), (Text(slow), slow[^1].Kind));

        var silent = await AllAsync(phone.Chat.SendAsync(Message("silent"), cancellationToken: Ct));
        Assert.Equal(("then silence", ErrorCodes.LlmTimeout), (Text(silent), silent[^1].Error!.Code));
    }

    [Fact]
    public async Task Send_WithoutAKey_AnswersLlmNotConfigured_AndChangesNothing()
    {
        await using var chat = await StartAsync(new Dictionary<string, string?>
        {
            ["Atlas:Llm:BaseUrl"] = "https://openrouter.ai/api/v1",
            ["Atlas:Llm:ApiKey"] = "",
        });
        if (Environment.GetEnvironmentVariable("OPENROUTER_API_KEY") is { Length: > 0 })
        {
            Assert.Skip("OPENROUTER_API_KEY is set in this environment.");
        }

        var phone = await chat.PhoneAsync();
        var error = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(phone.Chat.SendAsync(Message("hi"), cancellationToken: Ct)));
        Assert.Equal(ErrorCodes.LlmNotConfigured, error.Code);
        Assert.Contains("OPENROUTER_API_KEY", error.Message, StringComparison.Ordinal);
        Assert.Empty(await phone.Chat.ListConversationsAsync(Ct));
        Assert.Equal(0, chat.Fake.CompletionCount);

        using var response = await chat.PostMessageAsync(phone.Client, "rest-1", """{"text":"hi"}""");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(ErrorCodes.LlmNotConfigured, await AtlasTestHost.ErrorCodeAsync(response));
    }

    [Fact]
    public async Task Send_ToALocalEndpointWithoutKey_SendsNoAuthorizationHeader()
    {
        await using var chat = await StartAsync(new Dictionary<string, string?> { ["Atlas:Llm:ApiKey"] = "" });
        chat.Fake.RequireKey = false;
        var phone = await chat.PhoneAsync();

        var events = await AllAsync(phone.Chat.SendAsync(Message("local model"), cancellationToken: Ct));

        Assert.Equal("Echo: local model", Text(events));
        Assert.False(chat.Fake.Requests[0].Headers.ContainsKey("Authorization"));
    }
}
