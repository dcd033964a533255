using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.Options;
using Shared.Json;

namespace Atlas.Desktop.Chat.Llm;

/// <summary>The endpoint's models (<c>GET {base}/models</c>), cached, with what the picker and the checks need: vision
/// from OpenRouter's <c>architecture.input_modalities</c>, tools from <c>supported_parameters</c>. Endpoints that list
/// bare ids (Ollama, LM Studio) give unknown capabilities, which are not enforced.</summary>
internal sealed partial class ModelCatalog : IDisposable
{
    private static readonly TimeSpan FailureCacheDuration = TimeSpan.FromSeconds(30);
    private readonly LlmClientFactory _llm;
    private readonly LlmOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelCatalog> _logger;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private Snapshot? _snapshot;

    public ModelCatalog(LlmClientFactory llm, IOptions<AtlasOptions> options, AtlasTime time, ILogger<ModelCatalog> logger)
    {
        _llm = llm;
        _options = options.Value.Llm;
        _time = time.Provider;
        _logger = logger;
    }

    /// <summary>The models a device may pick, the default first.</summary>
    public async Task<ModelList> ListAsync(CancellationToken cancellationToken)
    {
        if (!_llm.IsConfigured)
        {
            throw new AtlasException(ErrorCodes.LlmNotConfigured, LlmClientFactory.NotConfiguredMessage);
        }

        var snapshot = await GetAsync(cancellationToken).ConfigureAwait(false);
        IEnumerable<ModelInfo> models = snapshot.Models ?? [];
        if (_options.AllowedModels.Count > 0)
        {
            var known = models.ToDictionary(m => m.Id, StringComparer.Ordinal);
            models = _options.AllowedModels.Select(id => known.GetValueOrDefault(id) ?? new ModelInfo { Id = id, Name = id });
        }

        var list = models.ToList();
        var index = list.FindIndex(m => m.Id == _options.Model);
        var first = index >= 0 ? list[index] : new ModelInfo { Id = _options.Model, Name = _options.Model };
        if (index >= 0)
        {
            list.RemoveAt(index);
        }

        list.Insert(0, first);
        return new ModelList { DefaultModel = _options.Model, Models = list };
    }

    /// <summary>Checks a model a device asked for. Returns what is known about it (null when the endpoint does not
    /// list models or could not be asked: then any well-formed id is tried).</summary>
    public async Task<ModelInfo?> ResolveAsync(string model, CancellationToken cancellationToken)
    {
        if (model.Length is 0 or > 128 || !ModelIdPattern().IsMatch(model))
        {
            throw new AtlasException(ErrorCodes.ModelUnsupported, $"'{Printable(model)}' is not a model id; pick one from GET /models.");
        }

        if (_options.AllowedModels.Count > 0 && model != _options.Model && !_options.AllowedModels.Contains(model, StringComparer.Ordinal))
        {
            throw new AtlasException(ErrorCodes.ModelUnsupported,
                $"The model '{model}' is not allowed on this desktop (Atlas:Llm:AllowedModels); pick one from GET /models.");
        }

        var snapshot = await GetAsync(cancellationToken).ConfigureAwait(false);
        if (snapshot.Models is not { Count: > 0 } models)
        {
            return null;
        }

        var found = models.FirstOrDefault(m => m.Id == model);
        if (found is null && model != _options.Model && _options.AllowedModels.Count == 0)
        {
            throw new AtlasException(ErrorCodes.ModelUnsupported, $"The LLM endpoint does not offer the model '{model}'; pick one from GET /models.");
        }

        return found;
    }

    private async Task<Snapshot> GetAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_snapshot is { } cached && cached.ExpiresAt > now)
        {
            return cached;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_snapshot is { } again && again.ExpiresAt > _time.GetUtcNow())
            {
                return again;
            }

            List<ModelInfo>? models = null;
            try
            {
                using var response = await _llm.GetAsync("models", cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    await using var body = new LoneSurrogateStream(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
                    using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
                    models = Parse(document.RootElement);
                }
                else
                {
                    ChatLog.ModelsFailed(_logger, (int)response.StatusCode);
                }
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                ChatLog.ModelsUnreachable(_logger, e.GetType().Name);
            }

            _snapshot = new Snapshot(models, _time.GetUtcNow() + (models is null ? FailureCacheDuration : _options.ModelsCacheDuration));
            return _snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }

    internal static List<ModelInfo> Parse(JsonElement root)
    {
        var result = new List<ModelInfo>();
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || String(item, "id") is not { Length: > 0 } id)
            {
                continue;
            }

            bool? vision = null;
            var textOut = true;
            if (item.TryGetProperty("architecture", out var architecture) && architecture.ValueKind == JsonValueKind.Object)
            {
                if (Strings(architecture, "input_modalities") is { } inputs)
                {
                    vision = inputs.Contains("image");
                }
                else if (String(architecture, "modality") is { } modality)
                {
                    vision = modality.Split("->")[0].Contains("image", StringComparison.Ordinal);
                }

                if (Strings(architecture, "output_modalities") is { } outputs)
                {
                    textOut = outputs.Contains("text");
                }
            }

            if (!textOut)
            {
                continue;
            }

            var parameters = Strings(item, "supported_parameters");
            string? promptPrice = null, completionPrice = null;
            if (item.TryGetProperty("pricing", out var pricing) && pricing.ValueKind == JsonValueKind.Object)
            {
                promptPrice = String(pricing, "prompt");
                completionPrice = String(pricing, "completion");
            }

            result.Add(new ModelInfo
            {
                Id = id,
                Name = String(item, "name") ?? id,
                ContextLength = item.TryGetProperty("context_length", out var context) && context.ValueKind == JsonValueKind.Number
                    && context.TryGetInt32(out var length) ? length : null,
                Vision = vision,
                Tools = parameters?.Contains("tools"),
                PromptPrice = promptPrice,
                CompletionPrice = completionPrice,
            });
        }

        return result;
    }

    public void Dispose() => _refresh.Dispose();

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static List<string>? Strings(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!)]
            : null;

    private static string Printable(string value) => new([.. value.Take(40).Select(c => char.IsControl(c) ? '?' : c)]);

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9._:/@+-]+$")]
    private static partial System.Text.RegularExpressions.Regex ModelIdPattern();

    private sealed record Snapshot(List<ModelInfo>? Models, DateTimeOffset ExpiresAt);
}
