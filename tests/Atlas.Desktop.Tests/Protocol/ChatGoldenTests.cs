using System.Text.Json;
using Atlas.Client.Protocol;

namespace Atlas.Desktop.Tests.Protocol;

/// <summary>Freezes the chat payloads on the wire (field names, kinds, statuses): clients branch on them.</summary>
public sealed class ChatGoldenTests
{
    [Fact]
    public void ChatEvents_HaveFrozenShapes()
    {
        string Json(ChatEvent e) => JsonSerializer.Serialize(new AtlasEnvelope
        {
            Type = MessageTypes.ChatResponse,
            Re = "m-7",
            Data = JsonSerializer.SerializeToElement(e, AtlasJsonContext.Default.ChatEvent),
        }, AtlasJsonContext.Default.AtlasEnvelope);

        Assert.Equal(WireFixtures.Read("chat_response.delta.json"),
            Json(new ChatEvent { MessageId = "msg_1", Seq = 3, Kind = ChatEventKinds.Delta, Delta = "Hel" }));
        Assert.Equal(WireFixtures.Read("chat_response.done.json"),
            Json(new ChatEvent
            {
                MessageId = "msg_1",
                Seq = 9,
                Kind = ChatEventKinds.Done,
                Model = "openai/gpt-4o-mini",
                FinishReason = "stop",
                Usage = new ChatUsage { PromptTokens = 12, CompletionTokens = 5, TotalTokens = 17, Cost = 0.00021m },
            }));
        Assert.Equal(WireFixtures.Read("chat_response.error.json"),
            Json(new ChatEvent
            {
                MessageId = "msg_1",
                Seq = 4,
                Kind = ChatEventKinds.Error,
                Error = new AtlasError { Code = ErrorCodes.LlmRateLimited, Message = "slow down", RetryAfter = 30, Retryable = true },
            }));
        Assert.Equal(WireFixtures.Read("chat_response.tool_result.json"),
            Json(new ChatEvent
            {
                MessageId = "msg_1",
                Seq = 5,
                Kind = ChatEventKinds.ToolResult,
                ToolResult = new ChatToolResult { Id = "call_1", Name = "files__list", Error = new AtlasError { Code = ErrorCodes.ToolDenied, Message = "no" } },
            }));
    }

    [Fact]
    public void ChatKindsAndStatuses_AreFrozen()
    {
        Assert.Equal(["start", "delta", "tool_call", "tool_result", "done", "error", "cancelled", "snapshot"],
            [ChatEventKinds.Start, ChatEventKinds.Delta, ChatEventKinds.ToolCall, ChatEventKinds.ToolResult, ChatEventKinds.Done,
             ChatEventKinds.Error, ChatEventKinds.Cancelled, ChatEventKinds.Snapshot]);
        Assert.Equal(["streaming", "done", "error", "cancelled", "interrupted"],
            [ChatStatus.Streaming, ChatStatus.Done, ChatStatus.Error, ChatStatus.Cancelled, ChatStatus.Interrupted]);
        Assert.True(ChatEventKinds.IsTerminal("snapshot", "interrupted"));
        Assert.False(ChatEventKinds.IsTerminal("snapshot", "streaming"));
    }

    [Fact]
    public void ChatRequests_ParseTheDocumentedShapes()
    {
        var message = JsonSerializer.Deserialize(
            WireFixtures.Read("chat_message.data.json"),
            AtlasJsonContext.Default.ChatMessageRequest)!;
        Assert.Equal(("cnv_1", "openai/gpt-4o-mini", 2), (message.ConversationId, message.Model, message.Attachments!.Count));
        var resume = JsonSerializer.Deserialize(WireFixtures.Read("resume.data.json"), AtlasJsonContext.Default.ChatResumeRequest)!;
        Assert.Equal(("msg_1", 12L), (resume.MessageId, resume.LastSeq));
        var conversation = JsonSerializer.Deserialize(WireFixtures.Read("conversation_request.data.json"), AtlasJsonContext.Default.ConversationRequest)!;
        Assert.Equal(("rename", "cnv_1", "Trip"), (conversation.Op, conversation.ConversationId, conversation.Title));
        var cancel = JsonSerializer.Deserialize(WireFixtures.Read("chat_cancel.data.json"), AtlasJsonContext.Default.ChatCancelRequest)!;
        Assert.Equal("msg_1", cancel.MessageId);
    }
}
