using Microsoft.Extensions.AI;

namespace Atlas.Desktop.Chat.Generations;

/// <summary>What a generation sends: the model, the messages (system prompt, history window, the new user message with
/// its attachments) and the tools, plus a remark for the client (for example that the model cannot use tools).</summary>
internal sealed record GenerationPlan(string Model, IReadOnlyList<ChatMessage> Messages, IReadOnlyList<AIFunction> Tools,
    Client.Protocol.AtlasError? Notice)
{
    /// <summary>Answers still running in the same conversation when this one was asked: it waits for them, so its
    /// prompt holds their final text, and the model sees the turns in the order the user sent them.</summary>
    public IReadOnlyList<Task> After { get; init; } = [];

    /// <summary>Builds the messages again from the saved history once <see cref="After"/> has finished.</summary>
    public Func<CancellationToken, Task<IReadOnlyList<ChatMessage>>>? Rebuild { get; init; }
}
