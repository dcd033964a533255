using System.Text.Json.Nodes;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Generations;
using Atlas.Desktop.Devices;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>Tool calls from the model into a real MCP server (the reference <c>server-everything</c> over stdio) through
/// the desktop's Mmcp hub: events to the phone, plain-text results to the model, permissions checked at call time,
/// failing and denied tools reported and recoverable, and the cap on rounds.</summary>
[Trait("Speed", "slow")]
public sealed class ToolTests
{
    private const string Server = "io.github.everything";
    internal const string Echo = "io_github_everything__echo"; // aggregated names are [A-Za-z0-9_-] only
    private const string Sum = "io_github_everything__get-sum";

    internal static Task<ChatHost> StartWithEverythingAsync(IDictionary<string, string?>? settings = null) =>
        StartAsync(settings, async dataDir =>
        {
            var manifest = new ServerManifest
            {
                Id = Server,
                Name = "Everything",
                Description = "The MCP reference test server",
                Version = "1.0.0",
                Transport = new StdioTransport { Command = "node", Args = [NpmServers.Script("server-everything"), "stdio"] },
            };
            var registry = Path.Combine(dataDir, "registry");
            Directory.CreateDirectory(registry);
            await ManifestWriter.WriteFileAsync(manifest, RegistryPaths.GetManifestPath(registry, Server), Ct);
        });

    /// <summary>The model answers with what the last tool message said.</summary>
    private static FakeReply AnswerWithToolResults(FakeRequest request) =>
        FakeReply.Text("Tools said: " + string.Join(" | ", request.ToolMessages.Select(m => FakeRequest.Text(m))));

    [Fact]
    public async Task ToolCall_ThroughTheHub_StreamsCallAndResult_AndGivesTheModelPlainText()
    {
        await using var chat = await StartWithEverythingAsync();
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        chat.Fake.Enqueue(FakeReply.ToolCalls(("call_1", Echo, """{"message":"hi from the model"}"""), ("call_2", Sum, """{"a":20,"b":22}""")));
        chat.Fake.Responder = AnswerWithToolResults;

        var events = await AllAsync(phone.Chat.SendAsync(Message("use your tools"), cancellationToken: Ct));

        AssertContiguous(events);
        var calls = events.Where(e => e.Kind == ChatEventKinds.ToolCall).Select(e => e.ToolCall!).ToList();
        Assert.Equal([("call_1", Echo, Server, "echo"), ("call_2", Sum, Server, "get-sum")], calls.Select(c => (c.Id, c.Name, c.Server!, c.Tool!)));
        Assert.Equal("hi from the model", calls[0].Arguments!.Value.GetProperty("message").GetString());
        var results = events.Where(e => e.Kind == ChatEventKinds.ToolResult).Select(e => e.ToolResult!).ToList();
        Assert.All(results, r => Assert.True(r.Ok, r.Error?.Message));
        Assert.Equal("Echo: hi from the model", results[0].Content);
        Assert.Contains("42", results[1].Content, StringComparison.Ordinal);

        var first = chat.Fake.Requests[0];
        Assert.Contains(Echo, first.ToolNames);
        var second = chat.Fake.Requests[1];
        var toolMessages = second.ToolMessages.ToList();
        Assert.Equal("Echo: hi from the model", FakeRequest.Text(toolMessages[0])); // plain text, never {"$type":"text",…}
        Assert.StartsWith("Tools said: Echo: hi from the model", Text(events), StringComparison.Ordinal);
        Assert.Equal(ChatEventKinds.Done, events[^1].Kind);

        var stored = (await phone.Chat.LoadConversationAsync(events[0].ConversationId!, Ct)).Messages![^1];
        Assert.Equal(2, stored.Tools!.Count);
        Assert.True(stored.Tools.All(t => t.Result?.Ok == true));
    }

    [Fact]
    public async Task Tools_OfServersTheDeviceMayNotUse_AreNotOffered_AndACallToThemIsDenied()
    {
        await using var chat = await StartWithEverythingAsync();
        var phone = await chat.PhoneAsync("Phone", Permissions.ToolsServerPrefix + "some.other.server");
        chat.Fake.Enqueue(FakeReply.ToolCalls(("call_x", Echo, """{"message":"sneaky"}""")));
        chat.Fake.Responder = AnswerWithToolResults;

        var events = await AllAsync(phone.Chat.SendAsync(Message("try it"), cancellationToken: Ct));

        Assert.Empty(chat.Fake.Requests[0].ToolNames); // nothing offered: the model invented the call
        var result = events.Single(e => e.Kind == ChatEventKinds.ToolResult).ToolResult!;
        Assert.Equal((false, ErrorCodes.ToolDenied), (result.Ok, result.Error!.Code));
        Assert.Equal(ChatEventKinds.Done, events[^1].Kind); // recoverable: the model still answered
    }

    [Fact]
    public async Task Tool_WhenThePermissionIsRemovedMidAnswer_IsDeniedAtCallTime_AndTheModelIsTold()
    {
        await using var chat = await StartWithEverythingAsync();
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(FakeReply.Stream().Role().ToolCallDelta(0, "call_1", Echo, """{"message":""").Signal(reached).Gate(gate)
            .ToolCallDelta(0, null, null, """late"}""").Finish("tool_calls").Done());
        chat.Fake.Responder = AnswerWithToolResults;

        var sending = AllAsync(phone.Chat.SendAsync(Message("echo late"), cancellationToken: Ct));
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        Assert.Contains(Echo, chat.Fake.Requests[0].ToolNames);
        await chat.Host.Get<DeviceService>().SetPermissionsAsync(phone.DeviceId, [Permissions.Chat], null, Ct);
        gate.SetResult();
        var events = await sending;

        var result = events.Single(e => e.Kind == ChatEventKinds.ToolResult).ToolResult!;
        Assert.Equal(ErrorCodes.ToolDenied, result.Error!.Code);
        Assert.Contains("not allowed", FakeRequest.Text(chat.Fake.Requests[1].ToolMessages.Single()), StringComparison.Ordinal);
        Assert.Equal(ChatEventKinds.Done, events[^1].Kind);
    }

    [Fact]
    public async Task Tool_ThatFails_IsReportedToThePhoneAndToTheModel()
    {
        await using var chat = await StartWithEverythingAsync();
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        chat.Fake.Enqueue(FakeReply.ToolCalls(("call_bad", Sum, """{"a":"not a number"}""")));
        chat.Fake.Responder = AnswerWithToolResults;

        var events = await AllAsync(phone.Chat.SendAsync(Message("break the tool"), cancellationToken: Ct));

        var result = events.Single(e => e.Kind == ChatEventKinds.ToolResult).ToolResult!;
        Assert.Equal((false, ErrorCodes.ToolFailed), (result.Ok, result.Error!.Code));
        Assert.StartsWith("Error", FakeRequest.Text(chat.Fake.Requests[1].ToolMessages.Single()), StringComparison.Ordinal);
        Assert.Equal(ChatEventKinds.Done, events[^1].Kind);
    }

    /// <summary>Before: a tool called without a required argument came back as "An error occurred invoking …" on the phone and
    /// to the model; the real cause was only in the desktop log.</summary>
    [Fact]
    [Trait("Issue9", "6")]
    public async Task Tool_CalledWithoutARequiredArgument_TellsThePhoneAndTheModelWhichOne()
    {
        await using var chat = await StartWithEverythingAsync();
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        chat.Fake.Enqueue(FakeReply.ToolCalls(("call_empty", Echo, "{}")));
        chat.Fake.Responder = AnswerWithToolResults;

        var events = await AllAsync(phone.Chat.SendAsync(Message("echo nothing"), cancellationToken: Ct));

        var result = events.Single(e => e.Kind == ChatEventKinds.ToolResult).ToolResult!;
        Assert.Equal((false, ErrorCodes.ToolFailed), (result.Ok, result.Error!.Code));
        Assert.Contains("required parameter 'message'", result.Error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("An error occurred", result.Error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", result.Error.Message, StringComparison.Ordinal);
        var toModel = FakeRequest.Text(chat.Fake.Requests[1].ToolMessages.Single());
        Assert.StartsWith("Error", toModel, StringComparison.Ordinal);
        Assert.Contains("required parameter 'message'", toModel, StringComparison.Ordinal);
        Assert.Equal(ChatEventKinds.Done, events[^1].Kind);
    }

    [Fact]
    public async Task ToolRounds_AreCapped_AndTheAnswerSaysSo()
    {
        await using var chat = await StartWithEverythingAsync(new Dictionary<string, string?> { ["Atlas:Chat:MaxToolRounds"] = "2" });
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        var round = 0;
        chat.Fake.Responder = _ => FakeReply.ToolCalls(($"call_{++round}", Echo, """{"message":"again"}"""));

        var events = await AllAsync(phone.Chat.SendAsync(Message("loop forever"), cancellationToken: Ct));

        Assert.Equal(3, chat.Fake.CompletionCount);
        Assert.Empty(chat.Fake.Requests[2].ToolNames); // the last round may not use tools
        Assert.Equal(2, events.Count(e => e.Kind == ChatEventKinds.ToolResult));
        var done = events[^1];
        Assert.Equal((ChatEventKinds.Done, "tool_calls", GenerationRunner.NoticeToolRounds), (done.Kind, done.FinishReason, done.Notice!.Code));
        Assert.Equal(3 * 30, done.Usage!.PromptTokens); // usage summed over every round
    }

    [Fact]
    public async Task Tools_AreNotSentToAModelWithoutToolSupport()
    {
        await using var chat = await StartWithEverythingAsync();
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);

        var events = await AllAsync(phone.Chat.SendAsync(Message("hello", model: "meta-llama/llama-3-8b-instruct"), cancellationToken: Ct));

        Assert.Empty(chat.Fake.Requests[0].ToolNames);
        Assert.Equal("tools_unsupported", events[^1].Notice!.Code);
    }

    [Fact]
    public async Task StatusUpdate_ListsTheHubsServers_AndWhetherTheDeviceMayUseThem()
    {
        await using var chat = await StartWithEverythingAsync();
        var phone = await chat.PhoneAsync("Phone", Permissions.ToolsServerPrefix + Server);
        var reply = await phone.Connection.RequestAsync(MessageTypes.StatusUpdate, null, cancellationToken: Ct);
        var servers = JsonNode.Parse(reply.Data!.Value.GetRawText())!["hub"]!["servers"]!.AsArray();
        var everything = Assert.Single(servers);
        Assert.Equal((Server, true), ((string?)everything!["id"], (bool)everything["allowed"]!));

        await chat.Host.Get<Mmcp.Client.Consent.ConsentStore>().SetServerAsync(Server, Mmcp.Client.Consent.ConsentDecision.Deny, Ct); // denied on the desktop
        var after = await phone.Connection.RequestAsync(MessageTypes.StatusUpdate, null, cancellationToken: Ct);
        var denied = Assert.Single(JsonNode.Parse(after.Data!.Value.GetRawText())!["hub"]!["servers"]!.AsArray());
        Assert.False((bool)denied!["allowed"]!);
    }
}
