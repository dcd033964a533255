using System.Runtime.CompilerServices;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Llm;
using Atlas.Media;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Media;

/// <summary>
/// The media pipeline's vision model: the desktop's configured LLM endpoint (OpenRouter or any OpenAI-compatible one)
/// with <c>Atlas:Media:DescribeModel</c>, or the chat model when that is not set. Registered only when the endpoint is
/// configured, so without one <c>describe</c> answers <c>llm_unavailable</c>. Before a request leaves, the model is
/// checked against the endpoint's model list: a model listed without image input is refused with
/// <c>model_unsupported</c> (endpoints that list bare ids are tried as they are).
/// </summary>
internal sealed class VisionChatClient : IChatClient
{
    private readonly LlmClientFactory _llm;
    private readonly ModelCatalog _catalog;
    private readonly string _model;

    public VisionChatClient(LlmClientFactory llm, ModelCatalog catalog, IOptions<AtlasMediaOptions> media)
    {
        _llm = llm;
        _catalog = catalog;
        _model = string.IsNullOrWhiteSpace(media.Value.DescribeModel) ? llm.DefaultModel : media.Value.DescribeModel.Trim();
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var model = await CheckAsync(options?.ModelId, cancellationToken).ConfigureAwait(false);
        using var client = _llm.Create(model, new ProviderObserver());
        return await client.GetResponseAsync(messages, With(options, model), cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var model = await CheckAsync(options?.ModelId, cancellationToken).ConfigureAwait(false);
        using var client = _llm.Create(model, new ProviderObserver());
        await foreach (var update in client.GetStreamingResponseAsync(messages, With(options, model), cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("atlas", _llm.Endpoint, _model)
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }

    private static ChatOptions With(ChatOptions? options, string model)
    {
        var copy = options?.Clone() ?? new ChatOptions();
        copy.ModelId = model;
        return copy;
    }

    private async Task<string> CheckAsync(string? requested, CancellationToken cancellationToken)
    {
        var model = string.IsNullOrWhiteSpace(requested) ? _model : requested;
        ModelInfo? info;
        try
        {
            info = await _catalog.ResolveAsync(model, cancellationToken).ConfigureAwait(false);
        }
        catch (AtlasException e) when (e.Code == ErrorCodes.ModelUnsupported)
        {
            throw new MediaException(MediaErrorCode.ModelUnsupported, $"{e.Message} Descriptions use Atlas:Media:DescribeModel (or the chat model, Atlas:Llm:Model).", e);
        }

        if (info?.Vision == false)
        {
            throw new MediaException(MediaErrorCode.ModelUnsupported,
                $"The model '{model}' does not accept images, so it cannot describe pictures. Set Atlas:Media:DescribeModel to a vision model "
                + "(GET /models marks them with \"vision\": true), for example openai/gpt-4o-mini.");
        }

        return model;
    }
}
