namespace Atlas.Desktop.Chat.Llm;

/// <summary>What the stream guard saw on the wire for one generation, across every request (tool rounds): usage and cost
/// summed, the last finish reason, OpenRouter generation ids. The OpenAI SDK drops <c>usage.cost</c>, so it is read
/// here from the raw chunks.</summary>
internal sealed class ProviderObserver
{
    private readonly Lock _lock = new();
    private readonly List<string> _generationIds = [];
    private long _promptTokens;
    private long _completionTokens;
    private long _totalTokens;
    private decimal? _cost;
    private bool _anyUsage;

    public int Requests { get; private set; }

    public string? LastFinishReason { get; private set; }

    public string? LastNativeFinishReason { get; private set; }

    public bool AnyUsage
    {
        get
        {
            lock (_lock)
            {
                return _anyUsage;
            }
        }
    }

    public IReadOnlyList<string> GenerationIds
    {
        get
        {
            lock (_lock)
            {
                return [.. _generationIds];
            }
        }
    }

    internal void OnRequest()
    {
        lock (_lock)
        {
            Requests++;
        }
    }

    internal void OnGenerationId(string id)
    {
        lock (_lock)
        {
            if (!_generationIds.Contains(id, StringComparer.Ordinal) && _generationIds.Count < 64)
            {
                _generationIds.Add(id);
            }
        }
    }

    internal void OnFinish(string reason, string? native)
    {
        LastFinishReason = reason;
        LastNativeFinishReason = native;
    }

    internal void OnUsage(long prompt, long completion, long total, decimal? cost)
    {
        lock (_lock)
        {
            _anyUsage = true;
            _promptTokens += prompt;
            _completionTokens += completion;
            _totalTokens += total > 0 ? total : prompt + completion;
            if (cost is { } c)
            {
                _cost = (_cost ?? 0) + c;
            }
        }
    }

    public (long Prompt, long Completion, long Total, decimal? Cost) Usage
    {
        get
        {
            lock (_lock)
            {
                return (_promptTokens, _completionTokens, _totalTokens, _cost);
            }
        }
    }
}
