using System.ClientModel.Primitives;
using System.Globalization;

namespace Atlas.Desktop.Chat.Llm;

/// <summary>Retries a chat request only when nothing was generated yet and waiting is short: connection failures, 408,
/// 502 and 503 whose <c>Retry-After</c> (if any) is within <c>Atlas:Llm:MaxRetryDelay</c>. Never 401/402/403 (retrying
/// cannot fix a key or a balance), never 429 (a rate limit goes to the phone at once with its wait, shown once, instead
/// of after hidden retries that spend the provider's budget again), and never after the stream started (that would
/// bill twice): the SDK hands a streamed response to its reader after the headers, so mid-stream failures never come
/// back here.</summary>
internal sealed class ProviderRetryPolicy : ClientRetryPolicy
{
    private readonly TimeSpan _maxDelay;
    private readonly TimeProvider _time;

    public ProviderRetryPolicy(int maxRetries, TimeSpan maxDelay, TimeProvider time)
        : base(maxRetries)
    {
        _maxDelay = maxDelay;
        _time = time;
    }

    // The base decides the retry budget and the success case; this narrows which failures are worth a retry.
    protected override bool ShouldRetry(PipelineMessage message, Exception? exception) =>
        base.ShouldRetry(message, exception) && Decide(message, exception);

    protected override ValueTask<bool> ShouldRetryAsync(PipelineMessage message, Exception? exception) =>
        ValueTask.FromResult(ShouldRetry(message, exception));

    private bool Decide(PipelineMessage message, Exception? exception)
    {
        if (exception is not null)
        {
            return exception is HttpRequestException or IOException && !message.CancellationToken.IsCancellationRequested;
        }

        if (message.Response is not { } response)
        {
            return false;
        }

        return response.Status switch
        {
            408 or 502 or 503 => RetryAfter(response, _time) is not { } wait || wait <= _maxDelay,
            _ => false,
        };
    }

    /// <summary>The <c>Retry-After</c> header as a delay (seconds or an HTTP date, measured from <paramref name="time"/>), or null.</summary>
    internal static TimeSpan? RetryAfter(PipelineResponse response, TimeProvider time) =>
        response.Headers.TryGetValue("Retry-After", out var value) ? ParseRetryAfter(value, time.GetUtcNow()) : null;

    /// <summary>A <c>Retry-After</c> value (seconds or an HTTP date) as a delay from <paramref name="now"/>, at most a
    /// day, or null when it is neither.</summary>
    internal static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(Math.Min(seconds, 86_400));
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? TimeSpan.FromSeconds(Math.Clamp((at - now).TotalSeconds, 0, 86_400))
            : null;
    }
}

/// <summary>Adds OpenRouter's attribution headers and, for keyless local endpoints, removes the placeholder credential
/// the SDK insists on, so no bogus <c>Authorization</c> header leaves the desktop.</summary>
internal sealed class ProviderHeadersPolicy : PipelinePolicy
{
    private readonly string _referer;
    private readonly string _title;
    private readonly bool _keyless;

    public ProviderHeadersPolicy(string referer, string title, bool keyless)
    {
        _referer = referer;
        _title = title;
        _keyless = keyless;
    }

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Apply(message);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Apply(message);
        return ProcessNextAsync(message, pipeline, currentIndex);
    }

    private void Apply(PipelineMessage message)
    {
        var headers = message.Request.Headers;
        if (_referer.Length > 0)
        {
            headers.Set("HTTP-Referer", _referer);
        }

        if (_title.Length > 0)
        {
            headers.Set("X-OpenRouter-Title", _title);
            headers.Set("X-Title", _title);
        }

        if (_keyless)
        {
            headers.Remove("Authorization");
        }
    }
}
