using System.Text;
using Atlas.Client.Protocol;
using Microsoft.Extensions.AI;

namespace Atlas.Desktop.Chat.Conversations;

/// <summary>Builds what the model reads: the system prompt, as much recent history as fits the token budget, then the
/// new user message with its context attachments and images.</summary>
/// <remarks>Tokens are estimated as characters / 3.5 plus a few per message (no tokenizer is shipped for every model);
/// the estimate errs on the side of sending less.</remarks>
internal static class PromptBuilder
{
    public static int EstimateTokens(string text) => (int)Math.Ceiling(text.Length / 3.5) + 4;

    /// <summary>The text of a user message as the model reads it: the message, then each context attachment, then a
    /// mention of each image (the image itself goes along only with the message it was attached to).</summary>
    public static string UserText(string text, IReadOnlyList<ChatAttachment>? attachments)
    {
        if (attachments is not { Count: > 0 })
        {
            return text;
        }

        var builder = new StringBuilder(text);
        foreach (var attachment in attachments)
        {
            if (attachment.Kind == ChatAttachment.Context)
            {
                builder.Append("\n\n[Attached context: ").Append(attachment.Title is { Length: > 0 } title ? title : "untitled").Append("]\n")
                    .Append(attachment.Text);
            }
            else if (attachment.Kind == ChatAttachment.Image)
            {
                builder.Append("\n\n[Attached image: ").Append(attachment.Path).Append(']');
            }
        }

        return builder.ToString().Trim();
    }

    /// <summary>The messages for the model.</summary>
    /// <param name="systemPrompt">The system prompt (empty for none).</param>
    /// <param name="history">Earlier messages of the conversation, oldest first.</param>
    /// <param name="current">The new user message (text, contexts and images).</param>
    /// <param name="budget">Token budget for the system prompt and history together with the new message.</param>
    /// <returns>The messages and how many earlier messages were left out.</returns>
    public static (List<ChatMessage> Messages, int Omitted) Build(string systemPrompt, IReadOnlyList<ChatMessageView> history,
        ChatMessage current, int budget)
    {
        var used = EstimateTokens(current.Text) + (systemPrompt.Length > 0 ? EstimateTokens(systemPrompt) : 0);
        var kept = new List<ChatMessage>();
        var omitted = 0;
        for (var i = history.Count - 1; i >= 0; i--)
        {
            var message = history[i];
            var text = message.Role == "user" ? UserText(message.Content, message.Attachments) : message.Content;
            if (text.Length == 0)
            {
                continue; // an answer that failed before any text says nothing to the model
            }

            var cost = EstimateTokens(text);
            if (used + cost > budget)
            {
                omitted = i + 1;
                break;
            }

            used += cost;
            kept.Add(new ChatMessage(message.Role == "user" ? ChatRole.User : ChatRole.Assistant, text));
        }

        kept.Reverse();
        var messages = new List<ChatMessage>(kept.Count + 2);
        if (systemPrompt.Length > 0)
        {
            messages.Add(new ChatMessage(ChatRole.System, systemPrompt));
        }

        messages.AddRange(kept);
        messages.Add(current);
        return (messages, omitted);
    }
}
