using System.Runtime.CompilerServices;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;

namespace Atlas.Desktop.Chat;

/// <summary>The default chat service until the LLM feature is plugged in: every call answers <c>not_available</c>.</summary>
internal sealed class UnavailableChatService : IChatService
{
    public const string Message =
        "Chat is not available yet: no LLM is configured on this desktop. Set OPENROUTER_API_KEY (or Atlas:Llm:ApiKey) and restart atlas.";

    public async IAsyncEnumerable<JsonElement> SendAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        throw new AtlasException(ErrorCodes.NotAvailable, Message);
#pragma warning disable CS0162 // An iterator needs a yield to be one.
        yield break;
#pragma warning restore CS0162
    }

    public IAsyncEnumerable<JsonElement> ResumeAsync(ChatRequest request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken);

    public Task<JsonElement> CancelAsync(ChatRequest request, CancellationToken cancellationToken) =>
        throw new AtlasException(ErrorCodes.NotAvailable, Message);
}
