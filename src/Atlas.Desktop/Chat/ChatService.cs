using System.Text.Json;

namespace Atlas.Desktop.Chat;

/// <summary>The chat feature behind <see cref="IChatService"/>: the exactly-once send, resume and cancel of
/// <see cref="ChatSender"/> (with turns built by <see cref="TurnBuilder"/>) and the conversation CRUD of
/// <see cref="ConversationRequests"/>.</summary>
internal sealed class ChatService : IChatService
{
    private readonly ChatSender _sender;
    private readonly ConversationRequests _conversations;

    public ChatService(ChatSender sender, ConversationRequests conversations)
    {
        _sender = sender;
        _conversations = conversations;
    }

    public IAsyncEnumerable<JsonElement> SendAsync(ChatRequest request, CancellationToken cancellationToken) => _sender.SendAsync(request, cancellationToken);

    public IAsyncEnumerable<JsonElement> ResumeAsync(ChatRequest request, CancellationToken cancellationToken) => _sender.ResumeAsync(request, cancellationToken);

    public Task<JsonElement> CancelAsync(ChatRequest request, CancellationToken cancellationToken) => _sender.CancelAsync(request, cancellationToken);

    public Task<JsonElement> ConversationAsync(ChatRequest request, CancellationToken cancellationToken) =>
        _conversations.HandleAsync(request, cancellationToken);
}
