using System.ClientModel;
using System.ClientModel.Primitives;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI;

namespace Atlas.Desktop.Chat.Llm;

/// <summary>Makes the <see cref="IChatClient"/> of one generation: Microsoft.Extensions.AI over the OpenAI SDK, pointed at
/// OpenRouter or any OpenAI-compatible base URL, sharing one HTTP connection pool.</summary>
/// <remarks>A client per generation is cheap (a pipeline of a few policies over the shared transport) and lets the
/// stream guard report that generation's usage, cost and finish reason without ambient state.</remarks>
internal sealed class LlmClientFactory : IDisposable
{
    public const string NotConfiguredMessage =
        "Chat needs an LLM and none is configured on this desktop: set OPENROUTER_API_KEY (or Atlas:Llm:ApiKey), or point "
        + "Atlas:Llm:BaseUrl at a local OpenAI-compatible server (Ollama, LM Studio, vLLM, llama.cpp), then restart atlas.";

    private readonly LlmOptions _options;
    private readonly HttpClient _http;
    private readonly HttpClientPipelineTransport _transport;
    private readonly string? _key;
    private readonly TimeProvider _time;

    public LlmClientFactory(IOptions<AtlasOptions> options, AtlasTime time)
    {
        _time = time.Provider;
        _options = options.Value.Llm;
        _key = _options.ResolveApiKey();
        Endpoint = new Uri(_options.BaseUrl.TrimEnd('/'));
        _http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            ConnectTimeout = TimeSpan.FromSeconds(15),

            // A cancelled answer must close its connection at once (the provider stops generating and billing), not be
            // drained in the background so the connection can be reused.
            MaxResponseDrainSize = 0,
        })
        {
            // Per-read idle timeouts come from the SDK's NetworkTimeout (Atlas:Llm:IdleTimeout); a stream may run long.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _transport = new HttpClientPipelineTransport(_http);
    }

    public Uri Endpoint { get; }

    public bool IsConfigured => _options.IsConfigured;

    public bool IsOpenRouter => _options.IsOpenRouter;

    public string DefaultModel => _options.Model;

    public TimeSpan IdleTimeout => _options.IdleTimeout;

    public IChatClient Create(string model, ProviderObserver observer)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = Endpoint,
            NetworkTimeout = _options.IdleTimeout,
            RetryPolicy = new ProviderRetryPolicy(_options.MaxRetries, _options.MaxRetryDelay, _time),
            Transport = _transport,
        };
        options.AddPolicy(new ProviderHeadersPolicy(_options.Referer, _options.Title, _key is null), PipelinePosition.BeforeTransport);
        options.AddPolicy(new ProviderStreamPolicy(observer), PipelinePosition.BeforeTransport);
        return new OpenAIClient(new ApiKeyCredential(_key ?? "no-key"), options).GetChatClient(model).AsIChatClient();
    }

    /// <summary>A GET against the endpoint (model list) with the same key and attribution headers.</summary>
    public async Task<HttpResponseMessage> GetAsync(string relative, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Endpoint + "/" + relative.TrimStart('/')));
        if (_key is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _key);
        }

        request.Headers.TryAddWithoutValidation("HTTP-Referer", _options.Referer);
        request.Headers.TryAddWithoutValidation("X-OpenRouter-Title", _options.Title);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        return await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _transport.Dispose();
        _http.Dispose();
    }
}
