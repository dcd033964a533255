using Microsoft.Extensions.AI;

namespace Atlas.Desktop.Chat.Generations;

/// <summary>What a generation sends: the model, the messages (system prompt, history window, the new user message with
/// its attachments) and the tools, plus a remark for the client (for example that the model cannot use tools).</summary>
internal sealed record GenerationPlan(string Model, IReadOnlyList<ChatMessage> Messages, IReadOnlyList<AIFunction> Tools,
    Client.Protocol.AtlasError? Notice);
